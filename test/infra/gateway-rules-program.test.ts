// The local gateway's fixture (test/fixtures/gateway-rules/observations.yaml: request validators at
// API and method level, gateway responses with headers and DEFAULT_4XX/DEFAULT_5XX fallbacks) served
// by the program, as the other fixtures are: the offline preview on both stacks (the mock cloud's AWS
// rules included, so what PutRestApi would warn of with failOnWarnings fails here) and the policy pack.
import * as assert from "assert";
import { OfflineRun, previewStack } from "../../preview/cli";
import { checkStackOffline } from "../../preview/policy-check";
import { observationsOverrides } from "../support/observations";
import { PROJECT } from "../support/upstream";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- walking the previewed body

describe("program: serving the local gateway's observations fixture", function () {
    this.timeout(240_000);
    const runs = new Map<string, OfflineRun>();
    const runOf = (stack: string): OfflineRun => {
        if (!runs.has(stack)) runs.set(stack, previewStack(stack, { overrides: observationsOverrides() }));
        return runs.get(stack) as OfflineRun;
    };

    for (const stack of ["red", "black"]) {
        it(`${stack}: previews with nothing AWS would refuse, counting its operations by kind`, () => {
            const run = runOf(stack);
            assert.deepStrictEqual(run.diagnostics.filter((d) => d.severity === "warning").map((d) => d.message), []);
            assert.deepStrictEqual(run.diagnostics.filter((d) => d.severity === "info").map((d) => d.message).slice(0, 2), [
                "gateway:spec: 6 operations: 4 behind the ring's authorizer, 0 IAM, 0 API key, 0 own authorizer, 2 public",
                "gateway:spec: public: GET /census (security: []), GET /archive (security: [])",
            ]);
        });
    }

    it("keeps the document's validators and gateway responses in the body the REST API imports, each statusCode a string", () => {
        const api = runOf("red").resources.find((r) => r.type === "aws:apigateway/restApi:RestApi");
        assert.ok(api);
        const body = JSON.parse((api.inputs as Json).body) as Json;
        assert.deepStrictEqual(Object.keys(body["x-amazon-apigateway-request-validators"]), ["everything", "params-only", "body-only", "off"]);
        const responses = body["x-amazon-apigateway-gateway-responses"] as Json;
        for (const [type, response] of Object.entries(responses)) {
            if (response.statusCode !== undefined) assert.strictEqual(typeof response.statusCode, "string", type);
        }
    });

    it("passes the policy pack on both stacks", () => {
        for (const stack of ["red", "black"]) {
            assert.deepStrictEqual(checkStackOffline(stack, {}, PROJECT, observationsOverrides()).violations, [], stack);
        }
    });
});
