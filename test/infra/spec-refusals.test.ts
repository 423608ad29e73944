// What a document may bring into the REST API body, and what it may leave open (issue 17 item 5):
// $refs stay in the document's folder and mirrored $refs in their mirror, after symlinks, and no
// message quotes a file; a public catch-all, or nothing behind the authorizer, needs an explicit opt-in.
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { userKeyInHeader } from "../../handlers/credentials";
import { SpecError, SpecOptions, bundleSpec } from "../../openapi";
import { previewFails } from "../support/preview";
import { PROJECT } from "../support/upstream";

const SECRET_LINE = "TOPSECRET: do-not-ship-0123456789";
const MOCK = "{type: mock, requestTemplates: {application/json: '{\"statusCode\": 200}'}}";
const OPTIONS: SpecOptions = { credentials: userKeyInHeader("X-Api-Key"), resultTtlSeconds: 0 };

function operation(extra = ""): string {
    return `{responses: {"200": {description: ok}}, x-amazon-apigateway-integration: ${MOCK}${extra}}`;
}

describe("openapi: refs and public routes a document cannot slip past (issue 17 item 5)", () => {
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-refusals-"));
        // Outside the document's folder (doc/) and outside the mirror (doc/mirror/): what must never be read.
        fs.writeFileSync(path.join(dir, "secret.yaml"), `${SECRET_LINE}\nget: ${operation()}\n`);
        fs.mkdirSync(path.join(dir, "doc", "mirror", "specs.example.org", "svc"), { recursive: true });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const write = (paths: Record<string, string>, file = path.join(dir, "doc", "api.yaml")): string => {
        const body = Object.entries(paths).map(([p, item]) => `  "${p}": ${item}`).join("\n");
        fs.writeFileSync(file, `swagger: "2.0"\ninfo: {title: t, version: "1"}\npaths:\n${body}\n`);
        return file;
    };
    const refused = async (file: string, options: SpecOptions = OPTIONS): Promise<SpecError> => {
        try {
            await bundleSpec(file, options);
        } catch (e) {
            assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
            assert.ok(!e.message.includes("TOPSECRET") && !e.message.includes("root:x:0:0"), `no file's content in the message: ${e.message}`);
            return e;
        }
        throw new Error("expected the document to be refused");
    };

    it("a local $ref out of the document's folder is refused, naming the $ref, where it resolves and the folder", async () => {
        const file = write({ "/ok": `{get: ${operation()}}`, "/x": "{$ref: \"../secret.yaml\"}" });
        const e = await refused(file);
        assert.match(e.message, /api\.yaml#\/paths\/~1x: \S*secret\.yaml is outside the document's folder \S*doc;/);
    });

    it("a file:// $ref to /etc/passwd is refused before it is read, and the message quotes nothing of it", async () => {
        const e = await refused(write({ "/ok": `{get: ${operation()}}`, "/x": "{$ref: \"file:///etc/passwd\"}" }));
        assert.match(e.message, /\/etc\/passwd.*outside the document's folder/);
    });

    it("a $ref through a symlink that leads out of the folder is refused (after symlinks)", async () => {
        fs.symlinkSync(path.join(dir, "secret.yaml"), path.join(dir, "doc", "inside.yaml"));
        const e = await refused(write({ "/ok": `{get: ${operation()}}`, "/x": "{$ref: \"./inside.yaml\"}" }));
        assert.match(e.message, /inside\.yaml.* resolves to .*secret\.yaml, outside the document's folder/);
    });

    it("a bare $ref name is still read as API Gateway's importer read it, beside the folder's refusal", async () => {
        const file = write({ "/ok": `{post: {parameters: [{in: body, name: b, schema: {$ref: Pet}}], responses: {"200": {description: ok}}, x-amazon-apigateway-integration: ${MOCK}}}`, "/x": "{$ref: \"../secret.yaml\"}" });
        fs.appendFileSync(file, "definitions: {Pet: {type: object}}\n");
        const e = await refused(file);
        assert.match(e.message, /1 \$ref cannot be read:\n {2}- \S*api\.yaml#\/paths\/~1x: \S*secret\.yaml is outside the document's folder/);
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/ {2}"\/x": .*\n/, ""));
        const spec = await bundleSpec(file, OPTIONS);
        assert.ok(spec.warnings.some((w) => /the bare name "Pet" is read as #\/definitions\/Pet/.test(w.message)));
    });

    it("a $ref inside the folder is read as before", async () => {
        fs.writeFileSync(path.join(dir, "doc", "item.yaml"), `get: ${operation()}\n`);
        const spec = await bundleSpec(write({ "/x": "{$ref: \"./item.yaml\"}" }), OPTIONS);
        assert.ok((spec.document.paths as Record<string, Record<string, unknown>>)["/x"].get);
    });

    it("a mirrored $ref through a symlink that leads out of its mirror folder is refused", async () => {
        fs.symlinkSync(path.join(dir, "secret.yaml"), path.join(dir, "doc", "mirror", "specs.example.org", "svc", "api.yaml"));
        const file = write({ "/ok": `{get: ${operation()}}`, "/x": "{$ref: \"https://specs.example.org/svc/api.yaml#/get\"}" });
        const e = await refused(file, { ...OPTIONS, mirrors: { "https://specs.example.org/": "doc/mirror/specs.example.org" }, baseDir: dir });
        assert.match(e.message, /https:\/\/specs\.example\.org\/svc\/api\.yaml leaves the mirror folder of https:\/\/specs\.example\.org\/ .*secret\.yaml/);
    });

    it("a mirror folder outside the project and outside the document's tree (/etc/) is refused, naming gateway:specMirrors", async () => {
        const file = write({ "/ok": `{get: ${operation()}}`, "/x": "{$ref: \"https://specs.example.org/passwd\"}" });
        const e = await refused(file, { ...OPTIONS, mirrors: { "https://specs.example.org/": "/etc/" }, baseDir: path.join(dir, "doc") });
        assert.match(e.message, /gateway:specMirrors maps https:\/\/specs\.example\.org\/ to \/etc\/, which resolves to \/etc, outside the project .* and outside the folder that holds the document's folder/);
    });

    describe("public routes", () => {
        const catchAll = (): string => write({
            "/heartbeat": `{get: ${operation()}}`,
            "/{proxy+}": `{x-amazon-apigateway-any-method: ${operation()}}`,
            "/courses/v1": `{get: ${operation()}}`,
        });

        it("a public catch-all at the root is refused unless gateway:allowPublicCatchAll says so", async () => {
            const e = await refused(catchAll(), { ...OPTIONS, publicRoutes: ["ANY /{proxy+}"] });
            assert.match(e.message, /gateway:publicRoutes makes ANY \/\{proxy\+\} public, which catches every path no other resource matches.*set gateway:allowPublicCatchAll to true/);
            const spec = await bundleSpec(catchAll(), { ...OPTIONS, publicRoutes: ["ANY /{proxy+}"], allowPublicCatchAll: true });
            assert.ok(spec.publicOperations.includes("ANY /{proxy+}"));
        });

        it("a catch-all the document itself marks public is refused the same way", async () => {
            const file = write({ "/courses/v1": `{get: ${operation()}}`, "/{proxy+}": `{x-amazon-apigateway-any-method: ${operation(", security: []")}}` });
            const e = await refused(file);
            assert.match(e.message, /ANY \/\{proxy\+\} is public \(security: \[\]\), which catches every path/);
        });

        it("a list that leaves no operation protected is refused unless gateway:allowPublicCatchAll says so", async () => {
            const file = write({ "/heartbeat": `{get: ${operation()}}`, "/courses/v1": `{get: ${operation()}}` });
            const e = await refused(file, { ...OPTIONS, publicRoutes: ["GET /heartbeat", "GET /courses/v1"] });
            assert.match(e.message, /no operation is left protected, by the ring's authorizer or the document's own auth \(2 public: GET \/heartbeat \(gateway:publicRoutes\), GET \/courses\/v1 \(gateway:publicRoutes\)\).*gateway:allowPublicCatchAll/);
            await bundleSpec(file, { ...OPTIONS, publicRoutes: ["GET /heartbeat", "GET /courses/v1"], allowPublicCatchAll: true });
        });

        it("an operation the document protects itself (IAM, an API key) is not open: nothing behind the ring's authorizer is no refusal then", async () => {
            const file = write({
                "/heartbeat": `{get: ${operation()}}`,
                "/photos": `{put: ${operation(", x-amazon-apigateway-auth: {type: aws_iam}")}, get: ${operation(", security: [{api_key: []}]")}}`,
            });
            fs.appendFileSync(file, "securityDefinitions: {api_key: {type: apiKey, name: x-api-key, in: header}}\n");
            const spec = await bundleSpec(file, { ...OPTIONS, publicRoutes: ["GET /heartbeat"] });
            assert.deepStrictEqual(spec.protectedOperations, []);
            assert.deepStrictEqual(Object.fromEntries(Object.entries(spec.operationAuth).map(([label, a]) => [label, a.kind])),
                { "GET /heartbeat": "public", "PUT /photos": "iam", "GET /photos": "api-key" });
        });

        it("a public preflight catch-all (OPTIONS /{proxy+}) answers OPTIONS only, and is no catch-all refusal", async () => {
            const file = write({ "/courses/v1": `{get: ${operation()}}`, "/{proxy+}": `{options: ${operation()}}` });
            const spec = await bundleSpec(file, OPTIONS);
            assert.deepStrictEqual(spec.publicReasons, { "OPTIONS /{proxy+}": "CORS preflight" });
        });

        it("a public catch-all under a prefix is no catch-all", async () => {
            const file = write({ "/courses/v1": `{get: ${operation()}}`, "/uploads/{proxy+}": `{x-amazon-apigateway-any-method: ${operation()}}` });
            const spec = await bundleSpec(file, { ...OPTIONS, publicRoutes: ["ANY /uploads/{proxy+}"] });
            assert.deepStrictEqual(spec.publicOperations, ["ANY /uploads/{proxy+}"]);
        });
    });
});

describe("openapi: request validators and gateway responses API Gateway's import refuses, refused by the preview and the local run alike", function () {
    this.timeout(120_000);
    const BROKEN = "test/fixtures/broken/gateway-rules.yaml";
    const EXPECTED = [
        /#\/x-amazon-apigateway-request-validator: names the request validator "strict", which x-amazon-apigateway-request-validators does not define \(it defines: basic\)/,
        /#\/paths\/~1things\/post\/x-amazon-apigateway-request-validator: names the request validator "bodies"/,
        /#\/x-amazon-apigateway-gateway-responses\/NOT_A_TYPE: NOT_A_TYPE is not a gateway response type; expected one of ACCESS_DENIED, API_CONFIGURATION_ERROR, /,
        /#\/x-amazon-apigateway-gateway-responses\/THROTTLED\/statusCode: statusCode "4xx"; expected an HTTP status code such as 429/,
        /#\/paths\/~1things\/post\/parameters\/0\/schema: not a JSON Schema draft 4 model \(API Gateway's models are\): .*minimum/,
    ];

    it("bundleSpec (what the program, the preview and the local run read the document with) refuses each, by its JSON pointer", async () => {
        const e = await bundleSpec(path.join(PROJECT, BROKEN), OPTIONS).then(() => assert.fail("accepted"), (err: unknown) => err);
        assert.ok(e instanceof SpecError, String(e));
        for (const expected of EXPECTED) assert.match(e.message, expected);
    });

    it("npm run preview refuses the document before anything is created", () => {
        const details = previewFails("red", { "gateway:spec": BROKEN, "gateway:hosts": "{}", "gateway:publicRoutes": "[]" });
        assert.match(details, /gateway:spec: cannot use test\/fixtures\/broken\/gateway-rules\.yaml/);
        for (const expected of EXPECTED) assert.match(details, expected);
    });
});
