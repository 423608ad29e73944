// ESLint flat config: typescript-eslint's recommended rules over every TypeScript source, and the
// project's import boundaries (DESIGN.md section 2): imports run one way, from the commands down to
// the program, the pack and the Lambda code, never back up and never across commands.
import tseslint from "typescript-eslint";

/** The folders of the commands a user runs; none imports another's insides. */
const COMMANDS = ["ring", "preview", "local"];
/** What no shipped code imports: the tests, the benchmarks, the examples. */
const TOOLING = ["test", "bench", "examples"];
/** How deep a folder's files may sit (policy/rules/*.ts is depth 2). */
const DEPTHS = [1, 2, 3];

/** The relative-import prefix that climbs from a file `depth` folders deep to the project root. */
function toRoot(depth) {
    return depth === 0 ? "\\./" : `(\\.\\./){${depth}}`;
}

/**
 * One ESLint config entry per depth under `folder` (or the root files when `folder` is ""), each refusing
 * the relative imports that `pattern(depth)` matches with `message`. Relative paths depend on a file's
 * depth, so each depth gets its own glob; no-restricted-imports sees only the import string.
 */
function boundary(folder, message, pattern, extraPatterns = []) {
    const depths = folder === "" ? [0] : DEPTHS;
    return depths.map((depth) => ({
        files: [folder === "" ? "*.ts" : `${folder}/${"*/".repeat(depth - 1)}*.ts`],
        rules: { "no-restricted-imports": ["error", { patterns: [{ regex: pattern(depth), message }, ...extraPatterns] }] },
    }));
}

/** Relative imports that leave the file's own top-level folder. */
const leavingFolder = (depth) => `^${toRoot(depth)}`;
/** Relative imports that reach into one of `folders` from the root. */
const reaching = (folders) => (depth) => `^${toRoot(depth)}(${folders.join("|")})(/|$)`;

export default tseslint.config(
    { ignores: ["bin/**", "node_modules/**", "out/**", ".lambda/**"] },
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
    // The Lambda code runs in Lambda and in tests alike: nothing of the project outside handlers/, no Pulumi.
    ...boundary("handlers", "handlers/ is the Lambda code: it imports nothing of the project outside handlers/.", leavingFolder, [
        { group: ["@pulumi/*"], message: "handlers/ runs inside Lambda: no Pulumi import." },
    ]),
    // The policy pack checks a shape it owns (policy/stack-model.ts); it never reaches into the program or a command.
    ...boundary("policy", "policy/ imports nothing outside policy/: the shape it checks lives in policy/stack-model.ts.", leavingFolder),
    // The development servers stand in for Redis and 3scale; they depend on nothing of ours.
    ...boundary("dev-servers", "dev-servers/ stand in for Redis and 3scale: they import no project code.", leavingFolder),
    // The program (entry point, config and its namespaces, components, openapi) knows nothing of the commands that run it, nor of the live pointer's program.
    ...["", "config", "components", "openapi"].flatMap((folder) =>
        boundary(folder, "The program never imports a command, a development server, a test, a bench or the live pointer's program (live/).", reaching([...COMMANDS, "live", "dev-servers", ...TOOLING])),
    ),
    // The live pointer's program never runs a slot's program: no slot entry point, no API document, no command.
    ...boundary("live", "live/ is the live pointer's program: it never imports a slot's program (index, openapi), a command, a development server, a test or a bench.",
        reaching(["index", "openapi", ...COMMANDS, "dev-servers", ...TOOLING])),
    // Each command may use the program, the pack, the handlers and the development servers, never another command.
    ...COMMANDS.flatMap((command) =>
        boundary(
            command,
            `${command}/ is one command: it imports no other command's insides, no test and no bench.`,
            reaching([...COMMANDS.filter((other) => other !== command), ...TOOLING]),
        ),
    ),
);
