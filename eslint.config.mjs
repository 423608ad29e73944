// ESLint flat config: typescript-eslint's recommended rules over every TypeScript source.
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["bin/**", "node_modules/**", "out/**"] },
    ...tseslint.configs.recommended,
    {
        rules: {
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
        },
    },
);
