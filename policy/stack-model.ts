// The data an offline preview produces for one stack: what `pulumi preview --json` would
// show, with every resource's inputs. Produced by preview/cli.ts, read by the
// policy check, the tests and `--json` users.

/** Stand-in for a secret value in printed or serialized previews. */
export const SECRET_MASK = "[secret]";

export interface PreviewResource {
    urn: string;
    /** Pulumi type token, e.g. "aws:apigateway/stage:Stage". */
    type: string;
    name: string;
    /** The id the (mock) cloud assigned; "" for components. */
    id: string;
    /** URN of the parent resource; absent for the stack itself. */
    parent?: string;
    /** true for cloud resources, false for components. */
    custom: boolean;
    /** Inputs as the program passed them; every leaf of a secret replaced by SECRET_MASK (map keys stay). */
    inputs: Record<string, unknown>;
    /** Paths (dot-separated, e.g. "environment.variables.REDIS_AUTH_TOKEN" or "authToken") of inputs that are secret. */
    secretInputs: string[];
    /** Outputs the mocked cloud answered (ids, ARNs, ...), secrets masked. */
    state: Record<string, unknown>;
}

export interface StackPreview {
    stack: string;
    project: string;
    resources: PreviewResource[];
    /** Stack outputs, secrets masked. */
    outputs: Record<string, unknown>;
    /** Names of the stack outputs that are secret. */
    secretOutputs: string[];
    /** Stack config as the program saw it (key "namespace:name"), secrets masked. */
    config: Record<string, unknown>;
    /** Config keys that are secret. */
    secretConfig: string[];
}
