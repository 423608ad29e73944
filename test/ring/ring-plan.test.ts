// Unit tests of the ring arithmetic and guards (ring/plan.ts, ring/status.ts): no Pulumi, no I/O.
import * as assert from "assert";
import {
    adoptionImportFile, detectDrift, firingAlarm, liveLabel, planCohort, planRemoveCohort,
    DEFAULT_ORDER, EXIT, GuardRefusal, MAPPING_TYPE, RingError, configValue, currentLive, exportedResources,
    findMappingUrns, formatCommand, inRing, isDeployed, nextSlot, parseOrder, planDeploy,
    planFlip, planRollback, projectConfigValue, resolveRing, shellQuote, stackNameFor,
} from "../../ring/plan";
import { buildStatus, formatHistoryEntry, formatStatus, summarizeAlarms } from "../../ring/status";
import { resourcesToMove } from "../../ring/migrate";
import type { AlarmState, LiveMapping, RingState } from "../../ring/plan";
import type { Cohort, RingHistoryEntry } from "../../outputs";

function outputsFor(slot: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        slot, restApiId: `${slot}-api`, stageName: slot, invokeUrl: `https://${slot}-api.execute-api.us-east-1.amazonaws.com/${slot}`,
        specSha256: "ab".repeat(32), releaseId: `rel-${slot}`, ...extra,
    };
}

/**
 * A ring state: `deployed` slots have outputs; AWS maps the domain to `live` and the live pointer
 * says `pointerLive` (default: `live`, so no drift).
 */
function state(opts: {
    order?: string[]; primary?: string; deployed?: string[]; live?: string; pointerLive?: string | null; previousLive?: string; org?: string;
    mapping?: LiveMapping | null; cohorts?: Cohort[]; history?: RingHistoryEntry[]; primaryHoldsMapping?: boolean; pointerHasMapping?: boolean;
}): RingState {
    const order = opts.order ?? ["red", "black"];
    const primary = opts.primary ?? order[0];
    const deployed = new Set(opts.deployed ?? []);
    const mapping = opts.mapping !== undefined ? opts.mapping : opts.live !== undefined ? { restApiId: `${opts.live}-api`, stage: opts.live } : null;
    return {
        ring: { order, primary },
        pointer: {
            stack: stackNameFor("live", opts.org), exists: true,
            state: { liveSlot: opts.pointerLive !== undefined ? opts.pointerLive : opts.live ?? null, previousLive: opts.previousLive ?? null, ringHistory: opts.history ?? [], cohorts: opts.cohorts ?? [] },
        },
        liveSlot: opts.live,
        mapping,
        domain: "api.example.edu/",
        primaryHoldsMapping: opts.primaryHoldsMapping,
        pointerHasMapping: opts.pointerHasMapping,
        slots: order.map((slot) => ({
            slot, stack: stackNameFor(slot, opts.org), deployed: deployed.has(slot),
            outputs: deployed.has(slot) ? outputsFor(slot) : {},
        })),
    };
}

function refused(fn: () => unknown, ...fragments: (string | RegExp)[]): GuardRefusal {
    try {
        fn();
    } catch (err) {
        assert.ok(err instanceof GuardRefusal, `expected a GuardRefusal, got ${String(err)}`);
        assert.strictEqual(err.exitCode, EXIT.refused);
        for (const f of fragments) {
            if (typeof f === "string") assert.ok(err.message.includes(f), `message lacks ${JSON.stringify(f)}:\n${err.message}`);
            else assert.match(err.message, f);
        }
        assert.ok(err.fix && err.fix.length > 0, "a refusal names the fix");
        return err;
    }
    assert.fail("expected a refusal");
}

describe("ring-plan: exit codes", () => {
    it("are 0 ok, 1 failed, 2 usage, 3 refused, 4 rolled back by the watch", () => {
        assert.deepStrictEqual(EXIT, { ok: 0, failed: 1, usage: 2, refused: 3, rolledBack: 4 });
    });
});

describe("ring-plan: nextSlot", () => {
    const two = ["red", "black"];
    const three = ["red", "black", "blue"];
    it("picks the slot after the live one", () => {
        assert.strictEqual(nextSlot(two, "red"), "black");
        assert.strictEqual(nextSlot(three, "red"), "black");
        assert.strictEqual(nextSlot(three, "black"), "blue");
    });
    it("wraps around after the last slot", () => {
        assert.strictEqual(nextSlot(two, "black"), "red");
        assert.strictEqual(nextSlot(three, "blue"), "red");
    });
    it("treats a live slot outside the ring (e.g. bootstrap) as: the first slot", () => {
        assert.strictEqual(nextSlot(two, "bootstrap"), "red");
        assert.strictEqual(nextSlot(three, "green"), "red");
        assert.strictEqual(nextSlot(two, ""), "red");
    });
    it("treats no live slot as: the first slot", () => {
        assert.strictEqual(nextSlot(two, undefined), "red");
    });
    it("a one-slot ring always picks that slot", () => {
        assert.strictEqual(nextSlot(["solo"], "solo"), "solo");
        assert.strictEqual(nextSlot(["solo"], undefined), "solo");
    });
    it("never returns the live slot in a ring of two or more, for every slot of rings up to 6", () => {
        for (let n = 2; n <= 6; n++) {
            const order = Array.from({ length: n }, (_, i) => `s${i}`);
            order.forEach((live, i) => {
                const next = nextSlot(order, live);
                assert.notStrictEqual(next, live);
                assert.strictEqual(next, order[(i + 1) % n]);
            });
        }
    });
    it("refuses an empty ring", () => {
        assert.throws(() => nextSlot([], "red"), RingError);
    });
});

describe("ring-plan: ring:order / ring:primary", () => {
    it("accepts a list, JSON text, or a comma list", () => {
        assert.deepStrictEqual(parseOrder(["red", "black"]), ["red", "black"]);
        assert.deepStrictEqual(parseOrder('["red","black","blue"]'), ["red", "black", "blue"]);
        assert.deepStrictEqual(parseOrder("red, black"), ["red", "black"]);
    });
    it("rejects empty, duplicate, non-string and invalid names", () => {
        for (const bad of [[], "", "[]", ["red", "red"], [1, 2], ["red", "bad name"], { a: 1 }, 42, "[not json"]) {
            assert.throws(() => parseOrder(bad), (e: unknown) => e instanceof RingError && /ring:order/.test(e.message), JSON.stringify(bad));
        }
    });
    it("defaults to [red, black] with the first slot primary", () => {
        assert.deepStrictEqual(resolveRing(undefined, undefined), { order: [...DEFAULT_ORDER], primary: "red" });
        assert.deepStrictEqual(resolveRing(["a", "b", "c"], undefined), { order: ["a", "b", "c"], primary: "a" });
        assert.deepStrictEqual(resolveRing(["a", "b", "c"], ""), { order: ["a", "b", "c"], primary: "a" });
    });
    it("takes an explicit primary in the ring and refuses one outside it", () => {
        assert.deepStrictEqual(resolveRing(["red", "black"], "black"), { order: ["red", "black"], primary: "black" });
        assert.throws(() => resolveRing(["red", "black"], "green"), (e: unknown) => e instanceof RingError && /ring:primary/.test(e.message) && /green/.test(e.message));
    });
    it("inRing", () => {
        const ring = { order: ["red", "black"], primary: "red" };
        assert.ok(inRing(ring, "red"));
        assert.ok(!inRing(ring, "green"));
        assert.ok(!inRing(ring, undefined));
    });
    it("stack names: the slot, or org/slot", () => {
        assert.strictEqual(stackNameFor("red"), "red");
        assert.strictEqual(stackNameFor("red", "acme"), "acme/red");
    });
});

describe("ring-plan: config shapes", () => {
    it("reads `pulumi config --json` entries: objectValue, JSON text, plain text", () => {
        assert.deepStrictEqual(configValue({ value: '["red","black"]', objectValue: ["red", "black"], secret: false }), ["red", "black"]);
        assert.deepStrictEqual(configValue({ value: '["red","black"]', secret: false }), ["red", "black"]);
        assert.strictEqual(configValue({ value: "black", secret: false }), "black");
        assert.strictEqual(configValue({ secret: true }), undefined);
        assert.strictEqual(configValue(undefined), undefined);
        assert.strictEqual(configValue({ value: "[oops" }), "[oops");
    });
    it("reads Pulumi.yaml project config: scalar, {value}, {default}", () => {
        assert.deepStrictEqual(projectConfigValue(["red"]), ["red"]);
        assert.deepStrictEqual(projectConfigValue({ value: ["red"], description: "x" }), ["red"]);
        assert.strictEqual(projectConfigValue({ type: "string", default: "red" }), "red");
        assert.strictEqual(projectConfigValue({ description: "no value" }), undefined);
    });
    it("isDeployed: a slot is deployed when its outputs name a REST API", () => {
        assert.ok(isDeployed({ restApiId: "abc" }));
        assert.ok(!isDeployed({}));
        assert.ok(!isDeployed(undefined));
        assert.ok(!isDeployed({ restApiId: "" }));
    });
});

describe("ring-plan: deploy", () => {
    it("first deploy: nothing live, so the first slot (the primary), creating its stack", () => {
        const p = planDeploy(state({}), undefined, () => false);
        assert.strictEqual(p.slot, "red");
        assert.strictEqual(p.live, undefined);
        assert.ok(p.createsStack);
        assert.match(p.reason, /nothing is live/);
    });
    it("second deploy: red live, so black", () => {
        const p = planDeploy(state({ deployed: ["red"], live: "red" }));
        assert.strictEqual(p.slot, "black");
        assert.strictEqual(p.live, "red");
        assert.ok(!p.createsStack);
    });
    it("black live: wraps to red (the primary)", () => {
        assert.strictEqual(planDeploy(state({ deployed: ["red", "black"], live: "black" })).slot, "red");
    });
    it("live slot outside the ring: the first slot", () => {
        const p = planDeploy(state({ deployed: ["red"], live: "bootstrap", pointerLive: null }));
        assert.strictEqual(p.slot, "red");
        assert.match(p.reason, /not in the ring/);
    });
    it("three slots: follows the order", () => {
        const order = ["red", "black", "blue"];
        assert.strictEqual(planDeploy(state({ order, deployed: order, live: "black" })).slot, "blue");
        assert.strictEqual(planDeploy(state({ order, deployed: order, live: "blue" })).slot, "red");
    });
    it("refuses to release into the live slot when asked for it", () => {
        refused(() => planDeploy(state({ deployed: ["red", "black"], live: "black" }), "black"),
            'slot "black"', "stack black", "is live", "deploy");
    });
    it("refuses, in a one-slot ring, the only (live) slot", () => {
        refused(() => planDeploy(state({ order: ["solo"], deployed: ["solo"], live: "solo" })), 'slot "solo"', "is live");
    });
    it("refuses a requested slot outside the ring", () => {
        refused(() => planDeploy(state({ deployed: ["red"], live: "red" }), "green"), '"green"', "not in the ring", "red, black");
    });
    it("takes a requested idle slot", () => {
        const order = ["red", "black", "blue"];
        assert.strictEqual(planDeploy(state({ order, deployed: ["red"], live: "red" }), "blue").slot, "blue");
    });
    it("refuses any deploy while AWS and the live pointer disagree (a flip in the console), naming both", () => {
        const order = ["red", "black", "blue"];
        const e = refused(() => planDeploy(state({ order, deployed: order, live: "red", pointerLive: "black" })),
            'deploying slot "black" refused', "drift: AWS maps api.example.edu/ to red (api red-api, stage red)", "the live pointer (stack live) says black");
        assert.match(e.fix ?? "", /flip red --override-drift/);
        assert.match(e.fix ?? "", /flip black --override-drift/);
        refused(() => planDeploy(state({ order, deployed: order, live: "black", pointerLive: "red" }), "blue"), "drift");
    });
    it("refuses the primary of a ring not moved yet (its state holds the mapping), naming `ring migrate`", () => {
        const e = refused(() => planDeploy(state({ deployed: ["red", "black"], live: "black", pointerLive: null, primaryHoldsMapping: true }), "red"),
            'deploying the primary slot "red" refused', "stack red still holds the custom domain's base path mapping");
        assert.match(e.fix ?? "", /npm run ring -- migrate/);
        assert.strictEqual(planDeploy(state({ deployed: ["red", "black"], live: "red", pointerLive: null, primaryHoldsMapping: true })).slot, "black", "the other slots may deploy");
    });
    it("refuses a non-primary slot before the primary was ever deployed", () => {
        refused(() => planDeploy(state({}), "black"), '"black"', 'primary "red"', "never been deployed", "deploy red");
    });
    it("names the org-qualified stack in refusals", () => {
        refused(() => planDeploy(state({ org: "acme", deployed: ["red"], live: "red" }), "red"), "stack acme/red");
    });
    it("never picks the live slot, for every live slot of rings up to 5", () => {
        for (let n = 2; n <= 5; n++) {
            const order = Array.from({ length: n }, (_, i) => `s${i}`);
            for (const live of order) {
                const p = planDeploy(state({ order, deployed: order, live }));
                assert.notStrictEqual(p.slot, live);
            }
        }
    });
});

describe("ring-plan: flip", () => {
    const both = { deployed: ["red", "black"], live: "red" };
    const beta: Cohort = { slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 };
    it("changes the live pointer: black live, red previous, every cohort ended", () => {
        const p = planFlip(state({ ...both, cohorts: [beta] }), "black");
        assert.deepStrictEqual(p.change, { expectedLive: "red", live: "black", previousLive: "red", cohorts: [] });
        assert.deepStrictEqual(p.removedCohorts, [beta]);
        assert.deepStrictEqual([p.from, p.pointerStack, p.noop], ["red", "live", false]);
    });
    it("flipping to the live slot with the pointer in agreement is a no-op, and ends nothing", () => {
        const p = planFlip(state({ ...both, cohorts: [beta] }), "red");
        assert.ok(p.noop);
        assert.deepStrictEqual(p.removedCohorts, []);
    });
    it("the first flip: from nothing live, with nothing recorded", () => {
        const p = planFlip(state({ deployed: ["red"] }), "red");
        assert.deepStrictEqual(p.change, { expectedLive: null, live: "red", previousLive: null, cohorts: [] });
    });
    it("refuses on drift, naming what AWS maps, what the live pointer says and both ways out", () => {
        const e = refused(() => planFlip(state({ ...both, pointerLive: "black" }), "black"),
            'flip to slot "black" refused', "AWS maps api.example.edu/ to red", "the live pointer (stack live) says black");
        assert.match(e.fix ?? "", /record it: `npm run ring -- flip red --override-drift --reason "<why>"`/);
        refused(() => planFlip(state({ ...both, mapping: null, live: undefined, pointerLive: "red" }), "black"), "AWS maps api.example.edu/ to nothing", "pulumi refresh");
    });
    it("with --override-drift, re-syncs: the target live in AWS but the pointer elsewhere, and says which drift it resolved", () => {
        const p = planFlip(state({ ...both, pointerLive: "black" }), "red", { overrideDrift: true });
        assert.ok(!p.noop);
        assert.deepStrictEqual(p.change, { expectedLive: "black", live: "red", previousLive: null, cohorts: [] });
        assert.match(p.overrides?.message ?? "", /AWS maps api.example.edu\/ to red/);
    });
    it("no drift before the first flip, or when the domain is not read", () => {
        assert.strictEqual(detectDrift(state({ pointerLive: null, mapping: { restApiId: "x", stage: "y" } })), undefined);
        assert.strictEqual(detectDrift({ ...state({ ...both, pointerLive: "black" }), mapping: undefined }), undefined);
    });
    it("from a live slot outside the ring, records no previous slot", () => {
        const p = planFlip(state({ deployed: ["red", "black"], live: "bootstrap", pointerLive: null, pointerHasMapping: true, previousLive: "black" }), "black");
        assert.strictEqual(p.change.previousLive, null);
    });
    it("refuses the first flip onto a mapping AWS has and the live pointer's state does not: its update would fail (ConflictException)", () => {
        const s = state({ deployed: ["red"], live: "bootstrap", pointerLive: null, pointerHasMapping: false, mapping: { restApiId: "seed0api00", stage: "bootstrap" } });
        const e = refused(() => planFlip({ ...s, liveSlot: "bootstrap (api seed0api00)" }, "red"),
            "api.example.edu/ already has a base path mapping in AWS (to bootstrap (api seed0api00))", "ConflictException");
        // pulumi import protects what it imports (its default): until the first flip no update can delete the mapping.
        assert.match(e.fix ?? "", /in live\/, `pulumi import --file adopt\.json --generate-code=false --yes -s live`/);
        assert.ok((e.fix ?? "").includes(adoptionImportFile("api.example.edu/")));
        assert.strictEqual(planFlip({ ...s, pointerHasMapping: true }, "red").change.live, "red", "adopted: the first flip takes it over");
    });
    it("refuses while the primary's state still holds the mapping (a ring not moved yet)", () => {
        refused(() => planFlip(state({ ...both, pointerLive: null, primaryHoldsMapping: true }), "black"), "still holds the custom domain's base path mapping");
    });
    it("refuses a slot outside the ring", () => {
        refused(() => planFlip(state(both), "green"), '"green"', "not in the ring", "ring:order");
    });
    it("refuses a slot never deployed", () => {
        refused(() => planFlip(state({ deployed: ["red"], live: "red" }), "black"), 'slot "black"', "stack black", "never been deployed", "deploy black");
    });
    it("needs neither the primary nor the working tree: only the target's outputs and the live pointer's state", () => {
        const p = planFlip(state({ primary: "black", deployed: ["red", "black"], live: "black" }), "red");
        assert.deepStrictEqual(p.change, { expectedLive: "black", live: "red", previousLive: "black", cohorts: [] });
    });
});

describe("ring-plan: rollback", () => {
    it("flips to the live pointer's previous slot", () => {
        const p = planRollback(state({ deployed: ["red", "black"], live: "black", previousLive: "red" }));
        assert.strictEqual(p.target, "red");
        assert.deepStrictEqual(p.change, { expectedLive: "black", live: "red", previousLive: "black", cohorts: [] });
    });
    it("refuses when nothing is recorded, naming the fix", () => {
        const e = refused(() => planRollback(state({ deployed: ["red", "black"], live: "red" })), "previousLive", "stack live", "nothing to roll back");
        assert.match(e.fix ?? "", /flip <slot>/);
    });
    it("refuses when the previous slot is already live", () => {
        refused(() => planRollback(state({ deployed: ["red", "black"], live: "red", previousLive: "red" })), "already live");
    });
    it("applies the flip guards: previous slot outside the ring or no longer deployed", () => {
        refused(() => planRollback(state({ deployed: ["red", "black"], live: "red", previousLive: "bootstrap" })), "not in the ring");
        refused(() => planRollback(state({ deployed: ["red"], live: "red", previousLive: "black" })), "never been deployed");
    });
});

describe("ring-plan: cohorts", () => {
    const both = { deployed: ["red", "black"], live: "red" };
    const header = [{ name: "X-Ring-Cohort", value: "beta" }];
    it("adds a cohort for the idle slot at the next free priority, keeping what is live", () => {
        const p = planCohort(state(both), "black", header);
        assert.deepStrictEqual(p.cohort, { slot: "black", headers: header, priority: 100 });
        assert.deepStrictEqual(p.change, { expectedLive: "red", live: "red", previousLive: null, cohorts: [p.cohort] });
    });
    it("the same headers again re-point the cohort and keep its priority; the same again is a no-op", () => {
        const order = ["red", "black", "blue"];
        const s = state({ order, deployed: order, live: "red", cohorts: [{ slot: "black", headers: header, priority: 300 }] });
        const p = planCohort(s, "blue", [{ name: "x-ring-cohort", value: "beta" }]);
        assert.deepStrictEqual(p.change.cohorts, [{ slot: "blue", headers: [{ name: "x-ring-cohort", value: "beta" }], priority: 300 }]);
        assert.ok(planCohort(s, "black", header).noop);
    });
    it("refuses the live slot, a slot never deployed, a slot outside the ring, and drift", () => {
        refused(() => planCohort(state(both), "red", header), 'slot "red" is live');
        refused(() => planCohort(state({ deployed: ["red"], live: "red" }), "black", header), "never been deployed");
        refused(() => planCohort(state(both), "green", header), "not in the ring");
        refused(() => planCohort(state({ ...both, pointerLive: "black" }), "black", header), "drift");
    });
    it("refuses what API Gateway would, naming the header and the rule", () => {
        refused(() => planCohort(state(both), "black", [{ name: "Authorization", value: "x" }]), "API Gateway would refuse", "refuses authorization");
        refused(() => planCohort(state(both), "black", header, 0), "priority 0: expected a whole number from 1 to 1,000,000");
        const taken = state({ ...both, cohorts: [{ slot: "black", headers: [{ name: "X-Team", value: "qa" }], priority: 100 }] });
        refused(() => planCohort(taken, "black", header, 100), "expected a priority no other rule has");
    });
    it("removes the cohort matching the headers, and refuses headers no cohort has, listing them", () => {
        const s = state({ ...both, cohorts: [{ slot: "black", headers: header, priority: 100 }] });
        const p = planRemoveCohort(s, [{ name: "X-RING-COHORT", value: "beta" }]);
        assert.deepStrictEqual([p.removed, p.change.cohorts], [true, []]);
        refused(() => planRemoveCohort(s, [{ name: "X-Ring-Cohort", value: "gamma" }]), "no cohort matches X-Ring-Cohort=gamma", "cohorts: X-Ring-Cohort=beta");
    });
});

describe("ring-plan: the state the live pointer and the primary hold (`pulumi stack export`)", () => {
    const urn = `urn:pulumi:red::api-ring::api-ring:ring:DomainFlip$${MAPPING_TYPE}::live-mapping`;
    const component = "urn:pulumi:red::api-ring::api-ring:ring:DomainFlip::live";
    const exported = {
        version: 3,
        deployment: {
            manifest: { time: "t", magic: "m", version: "v3.270.0" },
            resources: [
                { urn: "urn:pulumi:red::api-ring::pulumi:pulumi:Stack::api-ring-red", custom: false, type: "pulumi:pulumi:Stack" },
                { urn: "urn:pulumi:red::api-ring::aws:apigateway/restApi:RestApi::red-api", custom: true, type: "aws:apigateway/restApi:RestApi", id: "abc" },
                { urn: component, custom: false, type: "api-ring:ring:DomainFlip", parent: "urn:pulumi:red::api-ring::pulumi:pulumi:Stack::api-ring-red" },
                { urn, custom: true, type: MAPPING_TYPE, id: "api.example.edu/", parent: component },
                { urn: urn + "-old", custom: true, type: MAPPING_TYPE, id: "old", delete: true, parent: component },
                { bogus: true },
            ],
        },
    };
    it("finds the mapping and skips pending deletes and malformed entries", () => {
        const res = exportedResources(exported);
        assert.strictEqual(res.length, 5);
        assert.deepStrictEqual(findMappingUrns(res), [urn]);
    });
    it("what `ring migrate` moves: the DomainFlip component and what is under it, pending deletes left", () => {
        assert.deepStrictEqual(resourcesToMove(exportedResources(exported)), [component, urn]);
        assert.deepStrictEqual(resourcesToMove([]), []);
    });
    it("tolerates unknown shapes", () => {
        assert.deepStrictEqual(exportedResources(undefined), []);
        assert.deepStrictEqual(exportedResources({ version: 3 }), []);
        assert.deepStrictEqual(exportedResources({ deployment: { resources: "x" } }), []);
    });
});

describe("ring-plan: status", () => {
    it("reports every slot, the live one, the release each serves, and no secrets", () => {
        const s = state({ deployed: ["red", "black"], live: "black", previousLive: "red" });
        s.slots[0].outputs["redisAuthToken"] = "should-not-appear";
        const st = buildStatus(s, { liveUrl: "https://api.example.edu/" });
        assert.strictEqual(st.live, "black");
        assert.strictEqual(st.liveUrl, "https://api.example.edu/");
        assert.strictEqual(st.previousLive, "red");
        assert.deepStrictEqual(st.slots.map((x) => [x.slot, x.live, x.primary, x.deployed]), [["red", false, true, true], ["black", true, false, true]]);
        assert.strictEqual(st.slots[1].invokeUrl, "https://black-api.execute-api.us-east-1.amazonaws.com/black");
        assert.strictEqual(st.slots[1].releaseId, "rel-black");
        assert.deepStrictEqual(st.warnings, []);
        const text = formatStatus(st);
        assert.ok(!JSON.stringify(st).includes("should-not-appear"));
        assert.ok(!text.includes("should-not-appear"));
        assert.match(text, /^black\s+\*\s+black\s+https:\/\/black-api/m);
        assert.match(text, /live: black \(https:\/\/api\.example\.edu\/\), previous: red/);
        assert.match(text, /abababababab/);
    });
    it("shows never-deployed slots and nothing live before the first deploy", () => {
        const st = buildStatus(state({}));
        assert.strictEqual(st.live, undefined);
        assert.ok(st.slots.every((x) => !x.deployed && !x.live));
        assert.match(formatStatus(st), /never deployed/);
        assert.deepStrictEqual(st.warnings, []);
    });
    it("names drift (a console flip) and a live slot outside the ring", () => {
        const drifted = buildStatus(state({ deployed: ["red", "black"], live: "red", pointerLive: "black" }));
        assert.match(drifted.warnings[0], /drift: AWS maps api.example.edu\/ to red .* says black; .*flip black --override-drift/);
        assert.deepStrictEqual([drifted.drift?.aws, drifted.drift?.pointer], ["red", "black"]);
        assert.match(formatStatus(drifted), /^mapping: api\.example\.edu\/ -> api red-api, stage red \(AWS\); live pointer: black {2}DRIFT$/m);
        assert.match(buildStatus(state({ deployed: ["red"], live: "bootstrap", pointerLive: null })).warnings.join("\n"), /not in ring:order/);
    });
    it("lists the cohorts, beside the slot they reach", () => {
        const beta: Cohort = { slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta*" }, { name: "X-Team", value: "qa" }], priority: 100 };
        const st = buildStatus(state({ deployed: ["red", "black"], live: "red", cohorts: [beta] }));
        assert.deepStrictEqual(st.slots.map((x) => x.cohorts.length), [0, 1]);
        assert.match(formatStatus(st), /^cohorts \(requests to api\.example\.edu\/ carrying these headers reach the slot named, before the mapping\):\n {2}X-Ring-Cohort=beta\* and X-Team=qa -> black \(priority 100\)$/m);
    });
    it("the live slot is what AWS maps", () => {
        assert.strictEqual(currentLive(state({ deployed: ["red"], live: "red", pointerLive: "black" })), "red");
    });
});

describe("ring-plan: printed commands", () => {
    it("quote what a shell would expand", () => {
        assert.strictEqual(shellQuote("ring:live"), "ring:live");
        assert.strictEqual(shellQuote("a$b"), "'a$b'");
        assert.strictEqual(shellQuote("it's"), `'it'\\''s'`);
        assert.strictEqual(formatCommand(["pulumi", "up", "--target", "urn:x$y::z"]), "pulumi up --target 'urn:x$y::z'");
    });
});

describe("ring-plan: what AWS maps", () => {
    const slots = state({ deployed: ["red", "black"], live: "red" }).slots;
    it("names the slot whose REST API and stage the mapping points at", () => {
        assert.strictEqual(liveLabel(slots, { restApiId: "black-api", stage: "black" }), "black");
        assert.strictEqual(liveLabel(slots, { restApiId: "red-api", stage: "red" }), "red");
    });
    it("labels a mapping outside the ring by stage and API (a stage named like a slot on another API is not that slot)", () => {
        assert.strictEqual(liveLabel(slots, { restApiId: "seed0api00", stage: "bootstrap" }), "bootstrap (api seed0api00)");
        assert.strictEqual(liveLabel(slots, { restApiId: "seed0api00", stage: "red" }), "red (api seed0api00)");
        assert.strictEqual(liveLabel(slots, { restApiId: "red-api", stage: "black" }), "black (api red-api)");
    });
    it("adopting a mapping imports the DomainFlip component and its mapping by domain and base path", () => {
        assert.deepStrictEqual(JSON.parse(adoptionImportFile("api.example.edu/")), {
            resources: [
                { type: "api-ring:ring:DomainFlip", name: "live", component: true },
                { type: MAPPING_TYPE, name: "live-mapping", id: "api.example.edu/", parent: "live" },
            ],
        });
    });
});

describe("ring-plan: history", () => {
    const entry = (i: number): RingHistoryEntry => ({ at: `2026-11-23T10:0${i}:00Z`, kind: "flip", from: "red", to: "black", by: "ci", why: `#${i}`, gate: "passed" });
    it("prints one line per entry with the releases, who, the gate, why and the cohorts it ended", () => {
        assert.strictEqual(formatHistoryEntry({ ...entry(1), kind: "auto-rollback", fromRelease: "r2", toRelease: "r1", gate: "not-run", why: "alarm x fired" }),
            "2026-11-23T10:01:00Z  auto-rollback red -> black (r2 -> r1)  by ci  gate not-run  why: alarm x fired");
        assert.match(formatHistoryEntry({ ...entry(2), removedCohorts: [{ slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 }] }),
            /ended cohorts: X-Ring-Cohort=beta -> black \(priority 100\)$/);
    });
    it("status shows the last five, and all of them as data", () => {
        const history = [1, 2, 3, 4, 5, 6, 7].map(entry);
        const st = buildStatus(state({ deployed: ["red", "black"], live: "black", history }));
        assert.strictEqual(st.history.length, 7);
        const text = formatStatus(st);
        assert.match(text, /^history \(last 5 of 7; --json gives all\):$/m);
        assert.ok(!text.includes("why: #2") && text.includes("why: #3") && text.includes("why: #7"));
    });
});

describe("ring-plan: alarms", () => {
    const ok = (name: string): AlarmState => ({ name, state: "OK" });
    it("the first alarm in ALARM fires; OK, INSUFFICIENT_DATA and MISSING do not", () => {
        assert.strictEqual(firingAlarm([ok("a"), { name: "b", state: "INSUFFICIENT_DATA" }, { name: "c", state: "MISSING" }]), undefined);
        assert.strictEqual(firingAlarm([ok("a"), { name: "b", state: "ALARM", reason: "Threshold Crossed" }, { name: "c", state: "ALARM" }])?.name, "b");
    });
    it("summarizes states, naming the alarms that need a look", () => {
        assert.strictEqual(summarizeAlarms([ok("a"), ok("b")]), "2 OK");
        assert.strictEqual(summarizeAlarms([ok("a"), { name: "b", state: "ALARM" }, { name: "c", state: "MISSING" }]), "1 ALARM (b), 1 MISSING (c), 1 OK");
        assert.strictEqual(summarizeAlarms([]), "none");
    });
    it("status prints each watched slot's alarms", () => {
        const st = buildStatus(state({ deployed: ["red", "black"], live: "black" }), { alarms: { black: [ok("x"), { name: "y", state: "ALARM" }] } });
        assert.deepStrictEqual(st.slots[1].alarms?.map((a) => a.state), ["OK", "ALARM"]);
        assert.strictEqual(st.slots[0].alarms, undefined);
        assert.match(formatStatus(st), /^alarms: black 1 ALARM \(y\), 1 OK$/m);
    });
});
