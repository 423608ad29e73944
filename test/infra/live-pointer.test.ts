// The live pointer's program (the project in live/, compiled to bin/live/) under the mock runtime,
// through the offline preview: what it maps, what it exports, what it keeps without a change, and
// what it refuses. Its last state comes from a reference to its own stack (the preview's `deployed`
// entry "live"); a ring command's change from the environment of the update.
import * as assert from "assert";
import * as path from "path";
import { LIVE_CHANGE_ENV } from "../../live/change";
import { LIVE_POINTER_OUTPUT_NAMES } from "../../outputs";
import type { Cohort, RingHistoryEntry } from "../../outputs";
import { OfflinePreviewError, OfflineRun, previewStack, synthesizeOutputs } from "../../preview/cli";
import { PreviewResource } from "../../policy/stack-model";
import { adoptionImportFile } from "../../ring/plan";
import { checkStack } from "../../policy/offline";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserting on preview data

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const LIVE = path.join(PROJECT, "live");
const entry: RingHistoryEntry = { at: "2026-11-23T10:00:00Z", kind: "flip", from: "red", to: "black", by: "ci (ci)", why: "release 2", gate: "passed" };
const beta: Cohort = { slot: "red", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 };
const state = (extra: Record<string, unknown> = {}) => ({ liveSlot: "black", previousLive: "red", ringHistory: [entry], cohorts: [], liveUrl: "https://api.example.edu/", domainName: "api.example.edu", ...extra });

function preview(options: Parameters<typeof previewStack>[1] = {}, change?: unknown): OfflineRun {
    const saved = process.env[LIVE_CHANGE_ENV];
    if (change !== undefined) process.env[LIVE_CHANGE_ENV] = JSON.stringify(change);
    try {
        return previewStack("live", { projectDir: LIVE, ...options });
    } finally {
        if (saved === undefined) delete process.env[LIVE_CHANGE_ENV];
        else process.env[LIVE_CHANGE_ENV] = saved;
    }
}
function byType(run: OfflineRun, type: string): PreviewResource[] {
    return run.resources.filter((r) => r.type === type);
}
function mappingOf(run: OfflineRun): Json {
    const found = byType(run, "aws:apigateway/basePathMapping:BasePathMapping");
    assert.strictEqual(found.length, 1);
    return found[0].inputs as Json;
}

describe("live pointer: its program under the mock runtime", function () {
    this.timeout(120_000);
    let first: OfflineRun;
    before(() => { first = preview(); });

    it("exports exactly its documented outputs, none secret", () => {
        assert.deepStrictEqual(Object.keys(first.outputs).sort(), [...LIVE_POINTER_OUTPUT_NAMES].sort());
        assert.deepStrictEqual(first.secretOutputs, []);
        assert.strictEqual(first.outputs.liveUrl, "https://api.example.edu/");
    });

    it("points the existing domain's mapping at the live slot, read from that slot's stack outputs; creates no domain", () => {
        const red = synthesizeOutputs(PROJECT, "red");
        assert.deepStrictEqual([mappingOf(first).restApi, mappingOf(first).stageName, mappingOf(first).domainName], [red.restApiId, "red", "api.example.edu"]);
        assert.strictEqual(byType(first, "aws:apigateway/domainName:DomainName").length, 0);
        const refs = byType(first, "pulumi:pulumi:StackReference").map((r) => (r.inputs as Json).name).sort();
        assert.deepStrictEqual(refs, ["organization/api-ring-live/live", "organization/api-ring/red"], "its own last state, and the slot it points at: never a slot's program");
    });

    it("an update without a change keeps what is live, the history and the cohorts", () => {
        const run = preview({ deployed: { live: state({ cohorts: [beta] }) } });
        assert.deepStrictEqual([run.outputs.liveSlot, run.outputs.previousLive, run.outputs.ringHistory, run.outputs.cohorts], ["black", "red", [entry], [beta]]);
        assert.strictEqual(mappingOf(run).stageName, "black");
        const rule = byType(run, "aws:apigatewayv2/routingRule:RoutingRule");
        assert.strictEqual(rule.length, 1);
        assert.deepStrictEqual((rule[0].inputs as Json).actions, [{ invokeApi: { apiId: synthesizeOutputs(PROJECT, "red").restApiId, stage: "red" } }]);
    });

    it("before its first deployment nothing is live: no mapping", () => {
        const run = preview({ deployed: { live: null } });
        assert.deepStrictEqual([run.outputs.liveSlot, run.outputs.ringHistory], [null, []]);
        assert.strictEqual(byType(run, "aws:apigateway/basePathMapping:BasePathMapping").length, 0);
    });

    it("applies a ring command's change from the environment: the flip, its record, the cohorts ended", () => {
        const flip = { ...entry, at: "2026-11-24T10:00:00Z", from: "black", to: "red", why: "release 3" };
        const run = preview({ deployed: { live: state({ cohorts: [beta] }) } }, { expectedLive: "black", live: "red", previousLive: "black", cohorts: [], record: flip });
        assert.deepStrictEqual([run.outputs.liveSlot, run.outputs.previousLive, run.outputs.ringHistory, run.outputs.cohorts], ["red", "black", [entry, flip], []]);
        assert.strictEqual(mappingOf(run).stageName, "red");
        assert.strictEqual(byType(run, "aws:apigatewayv2/routingRule:RoutingRule").length, 0);
    });

    it("refuses a change planned from another state (another flip came first), and a malformed one, naming the variable", () => {
        assert.throws(() => preview({ deployed: { live: state() } }, { expectedLive: "red", live: "red", previousLive: "black", cohorts: [] }),
            (e: Error) => e instanceof OfflinePreviewError && /the live pointer says black is live, but this change was planned from red live: another flip came first/.test(e.message));
        assert.throws(() => preview({}, { expectedLive: "red", live: 7, previousLive: null, cohorts: [] }),
            new RegExp(`${LIVE_CHANGE_ENV}: live is 7; expected a slot name or null`));
    });

    it("refuses to point at a slot never deployed, naming the fix", () => {
        assert.throws(() => preview({ deployed: { live: state(), black: null } }),
            /the live pointer would send requests to slot "black", but stack "black" has never been deployed.*npm run ring -- deploy black/s);
    });

    it("refuses last outputs that are not the live pointer's", () => {
        assert.throws(() => preview({ deployed: { live: state({ liveSlot: 5 }) } }), /the last outputs of stack live are not the live pointer's: liveSlot is 5/);
    });

    it("creates the domain when given a certificate: regional, TLS 1.2, the routing mode left to the domain until a cohort needs rules; the policy pack passes it", () => {
        const run = preview({ overrides: { "domain:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444" } });
        const domain = byType(run, "aws:apigateway/domainName:DomainName");
        assert.strictEqual(domain.length, 1);
        assert.deepStrictEqual([(domain[0].inputs as Json).securityPolicy, (domain[0].inputs as Json).routingMode], ["TLS_1_2", undefined]);
        assert.deepStrictEqual(checkStack(run).filter((v) => v.enforcementLevel === "mandatory"), []);
    });

    it("the import file that adopts an existing mapping names the component and the mapping the live pointer declares", () => {
        const file = JSON.parse(adoptionImportFile("api.example.edu/")) as { resources: { type: string; name: string; parent?: string }[] };
        const [component, mapping] = file.resources;
        const declaredComponent = first.resources.find((x) => x.type === component.type && x.name === component.name) as PreviewResource;
        assert.ok(declaredComponent, `${component.type} ${component.name} is in the program`);
        const declaredMapping = byType(first, mapping.type)[0];
        assert.strictEqual(declaredMapping.name, mapping.name);
        assert.strictEqual(mapping.parent, component.name);
        assert.strictEqual(declaredMapping.parent, declaredComponent.urn);
    });
});
