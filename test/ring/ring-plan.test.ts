// Unit tests of the ring arithmetic and guards (ring/plan.ts): no Pulumi, no I/O.
import * as assert from "assert";
import {
    adoptionImportFile, appendHistory, detectDrift, firingAlarm, formatHistoryEntry, liveLabel, summarizeAlarms,
    DEFAULT_ORDER, EXIT, GuardRefusal, MAPPING_TYPE, RingError, buildStatus, configValue, currentLive, exportedResources,
    findMappingUrns, formatCommand, formatStatus, inRing, isDeployed, mappingTargets, nextSlot, parseOrder, planDeploy,
    planFlip, planRollback, projectConfigValue, resolveRing, shellQuote, stackNameFor,
} from "../../ring/plan";
import type { AlarmState, LiveMapping, RingState } from "../../ring/plan";
import type { RingHistoryEntry } from "../../outputs";
import { readSlotConfig } from "../../config";
import { configSource } from "../../stack-config";

function outputsFor(slot: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        slot, restApiId: `${slot}-api`, stageName: slot, invokeUrl: `https://${slot}-api.execute-api.us-east-1.amazonaws.com/${slot}`,
        specSha256: "ab".repeat(32), releaseId: `rel-${slot}`, ...extra,
    };
}

/**
 * A ring state: `deployed` slots have outputs; AWS maps the domain to `live` (once the primary is
 * deployed) and ring:live says `configuredLive` (default: `live`, so no drift).
 */
function state(opts: {
    order?: string[]; primary?: string; deployed?: string[]; live?: string; configuredLive?: string; previousLive?: string; org?: string;
    mapping?: LiveMapping | null;
}): RingState {
    const order = opts.order ?? ["red", "black"];
    const primary = opts.primary ?? order[0];
    const deployed = new Set(opts.deployed ?? []);
    const mapping = opts.mapping !== undefined ? opts.mapping
        : deployed.has(primary) && opts.live !== undefined ? { restApiId: `${opts.live}-api`, stage: opts.live } : undefined;
    return {
        ring: { order, primary },
        liveSlot: deployed.has(primary) ? opts.live : undefined,
        mapping,
        domain: "api.example.edu/",
        configuredLive: opts.configuredLive ?? opts.live,
        previousLive: opts.previousLive,
        slots: order.map((slot) => {
            const extra = slot === primary && opts.live !== undefined ? { liveSlot: opts.live, liveUrl: "https://api.example.edu/" } : {};
            return {
                slot, stack: stackNameFor(slot, opts.org), deployed: deployed.has(slot),
                outputs: deployed.has(slot) ? outputsFor(slot, extra) : {},
            };
        }),
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
    it("first deploy with ring:live already set to the primary in Pulumi.red.yaml is allowed", () => {
        assert.strictEqual(planDeploy(state({ configuredLive: "red" })).slot, "red");
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
        const p = planDeploy(state({ deployed: ["red"], live: "bootstrap" }));
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
    it("refuses any deploy while AWS and ring:live disagree (a half-done flip, or a flip in the console), naming both", () => {
        const order = ["red", "black", "blue"];
        // Domain on red, ring:live already says black (flip's up failed and config was not restored).
        // Was: refused only the slot ring:live names, from the primary's liveSlot output; now any
        // deploy, since the next up of the primary would overwrite what AWS serves.
        const e = refused(() => planDeploy(state({ order, deployed: order, live: "red", configuredLive: "black" })),
            'deploying slot "black" refused', "drift: AWS maps api.example.edu/ to red (api red-api, stage red)", "ring:live on stack red says black");
        assert.match(e.fix ?? "", /flip red --override-drift/);
        assert.match(e.fix ?? "", /flip black --override-drift/);
        refused(() => planDeploy(state({ order, deployed: order, live: "black", configuredLive: "red" }), "blue"), "drift");
    });
    it("refuses the primary's first deploy onto a domain AWS already maps, unless its state adopted the mapping", () => {
        const seed = { restApiId: "seed0api00", stage: "bootstrap" };
        const s = { ...state({ mapping: seed }), liveSlot: "bootstrap (api seed0api00)" };
        const e = refused(() => planDeploy(s), "api.example.edu/ already has a base path mapping in AWS (to bootstrap (api seed0api00))", "ConflictException");
        assert.match(e.fix ?? "", /pulumi import --file adopt\.json --protect=false --generate-code=false --yes -s red/);
        assert.ok((e.fix ?? "").includes(adoptionImportFile("api.example.edu/")));
        const p = planDeploy({ ...s, primaryStateHasMapping: true });
        assert.strictEqual(p.slot, "red");
        assert.match(p.reason, /serves bootstrap \(api seed0api00\), which is not in the ring/);
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
    it("sets ring:live and records the previous live slot", () => {
        const p = planFlip(state(both), "black");
        assert.deepStrictEqual(p.config, [{ key: "ring:live", value: "black" }, { key: "ring:previousLive", value: "red" }]);
        assert.strictEqual(p.from, "red");
        assert.strictEqual(p.primaryStack, "red");
        assert.ok(!p.noop);
    });
    it("flipping to the live slot with config in agreement is a no-op", () => {
        const p = planFlip(state(both), "red");
        assert.ok(p.noop);
        assert.deepStrictEqual(p.config, []);
    });
    it("refuses on drift, naming what AWS maps, what ring:live says and both ways out", () => {
        const e = refused(() => planFlip(state({ ...both, configuredLive: "black" }), "black"),
            'flip to slot "black" refused', "AWS maps api.example.edu/ to red", "ring:live on stack red says black");
        assert.match(e.fix ?? "", /record it: `npm run ring -- flip red --override-drift --reason "<why>"`/);
        refused(() => planFlip(state({ ...both, mapping: null }), "black"), "AWS maps api.example.edu/ to nothing", "pulumi refresh");
    });
    it("with --override-drift, re-syncs: target live in AWS but ring:live elsewhere sets only ring:live, and says which drift it resolved", () => {
        const p = planFlip(state({ ...both, configuredLive: "black" }), "red", { overrideDrift: true });
        assert.ok(!p.noop);
        assert.deepStrictEqual(p.config, [{ key: "ring:live", value: "red" }]);
        assert.match(p.overrides?.message ?? "", /AWS maps api.example.edu\/ to red/);
    });
    it("no drift before the primary's first deploy, or when the domain is not read", () => {
        assert.strictEqual(detectDrift(state({ configuredLive: "red", mapping: { restApiId: "x", stage: "y" } })), undefined);
        assert.strictEqual(detectDrift({ ...state({ ...both, configuredLive: "black" }), mapping: undefined }), undefined);
    });
    it("from a live slot outside the ring, records no previous slot (the program refuses one outside ring:order)", () => {
        // Was: ring:previousLive=bootstrap, which the primary's next `up` refuses
        // ("ring:previousLive: got \"bootstrap\"; expected a slot of ring:order").
        const p = planFlip(state({ deployed: ["red", "black"], live: "bootstrap", previousLive: "black" }), "black");
        assert.deepStrictEqual(p.config, [{ key: "ring:live", value: "black" }, { key: "ring:previousLive" }]);
        const values: Record<string, string> = {
            "ring:live": "red", "ring:previousLive": "black", "domain:name": "api.example.edu",
            "gateway:hosts": JSON.stringify({ edxapp_host: "courses.example.edu" }), "threescale:serviceId": "2555417777820",
            "threescale:serviceToken": "s3rvice-token-0123456789", "cache:authToken": "redis-auth-token-0123456789",
        };
        for (const c of p.config) {
            if (c.value === undefined) delete values[c.key];
            else values[c.key] = c.value;
        }
        const config = readSlotConfig(configSource({ project: "api-ring", stack: "red", values, secretKeys: ["threescale:serviceToken", "cache:authToken"] }));
        assert.strictEqual(config.ring.live, "black");
        assert.strictEqual(config.ring.previousLive, undefined);
    });
    it("refuses a slot outside the ring", () => {
        refused(() => planFlip(state(both), "green"), '"green"', "not in the ring", "ring:order");
    });
    it("refuses a slot never deployed", () => {
        refused(() => planFlip(state({ deployed: ["red"], live: "red" }), "black"), 'slot "black"', "stack black", "never been deployed", "deploy black");
    });
    it("refuses when the primary was never deployed (no mapping)", () => {
        refused(() => planFlip(state({ deployed: ["black"] }), "black"), 'primary slot "red"', "no live mapping");
    });
    it("a non-first primary owns the flip", () => {
        const p = planFlip(state({ primary: "black", deployed: ["red", "black"], live: "black" }), "red");
        assert.strictEqual(p.primaryStack, "black");
        assert.deepStrictEqual(p.config, [{ key: "ring:live", value: "red" }, { key: "ring:previousLive", value: "black" }]);
    });
});

describe("ring-plan: rollback", () => {
    it("flips to ring:previousLive", () => {
        const p = planRollback(state({ deployed: ["red", "black"], live: "black", previousLive: "red" }));
        assert.strictEqual(p.target, "red");
        assert.deepStrictEqual(p.config, [{ key: "ring:live", value: "red" }, { key: "ring:previousLive", value: "black" }]);
    });
    it("refuses when nothing is recorded, naming the fix", () => {
        const e = refused(() => planRollback(state({ deployed: ["red", "black"], live: "red" })), "ring:previousLive", "stack red", "nothing to roll back");
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

describe("ring-plan: mapping URN from `pulumi stack export`", () => {
    const urn = `urn:pulumi:red::api-ring::api-ring:index:DomainFlip$${MAPPING_TYPE}::live-mapping`;
    const exported = {
        version: 3,
        deployment: {
            manifest: { time: "t", magic: "m", version: "v3.270.0" },
            resources: [
                { urn: "urn:pulumi:red::api-ring::pulumi:pulumi:Stack::api-ring-red", custom: false, type: "pulumi:pulumi:Stack" },
                { urn: "urn:pulumi:red::api-ring::aws:apigateway/restApi:RestApi::red-api", custom: true, type: "aws:apigateway/restApi:RestApi", id: "abc" },
                { urn, custom: true, type: MAPPING_TYPE, id: "api.example.edu/" },
                { urn: urn + "-old", custom: true, type: MAPPING_TYPE, id: "old", delete: true },
                { bogus: true },
            ],
        },
    };
    it("finds the mapping and skips pending deletes and malformed entries", () => {
        const res = exportedResources(exported);
        assert.strictEqual(res.length, 4);
        assert.deepStrictEqual(findMappingUrns(res), [urn]);
        assert.deepStrictEqual(mappingTargets(res, "red", "red"), [urn]);
    });
    it("tolerates unknown shapes", () => {
        assert.deepStrictEqual(exportedResources(undefined), []);
        assert.deepStrictEqual(exportedResources({ version: 3 }), []);
        assert.deepStrictEqual(exportedResources({ deployment: { resources: "x" } }), []);
    });
    it("refuses when the primary has no mapping, naming the stack and the fix", () => {
        refused(() => mappingTargets([], "red", "acme/red"), 'primary slot "red"', "stack acme/red", MAPPING_TYPE);
    });
});

describe("ring-plan: status", () => {
    it("reports every slot, the live one, and no secrets", () => {
        const s = state({ deployed: ["red", "black"], live: "black", previousLive: "red" });
        s.slots[0].outputs["redisAuthToken"] = "should-not-appear";
        const st = buildStatus(s);
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
        const st = buildStatus(state({ configuredLive: "red" }));
        assert.strictEqual(st.live, undefined);
        assert.ok(st.slots.every((x) => !x.deployed && !x.live));
        assert.match(formatStatus(st), /never deployed/);
        assert.deepStrictEqual(st.warnings, []);
    });
    it("names drift (a half-done flip, a console flip) and a live slot outside the ring", () => {
        const drifted = buildStatus(state({ deployed: ["red", "black"], live: "red", configuredLive: "black" }));
        assert.match(drifted.warnings[0], /drift: AWS maps api.example.edu\/ to red .* says black; .*flip black --override-drift/);
        assert.deepStrictEqual([drifted.drift?.aws, drifted.drift?.config], ["red", "black"]);
        assert.match(formatStatus(drifted), /^mapping: api\.example\.edu\/ -> api red-api, stage red \(AWS\); ring:live: black {2}DRIFT$/m);
        assert.match(buildStatus(state({ deployed: ["red"], live: "bootstrap" })).warnings.join("\n"), /not in ring:order/);
    });
    it("currentLive is undefined until the primary is deployed", () => {
        assert.strictEqual(currentLive(state({ live: "red" })), undefined);
        assert.strictEqual(currentLive(state({ deployed: ["red"], live: "red" })), "red");
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
    it("appends, keeping the newest `limit` entries", () => {
        let h: RingHistoryEntry[] = [];
        for (let i = 1; i <= 5; i++) h = appendHistory(h, entry(i), 3);
        assert.deepStrictEqual(h.map((e) => e.why), ["#3", "#4", "#5"]);
        assert.deepStrictEqual(appendHistory([], entry(1), 0).length, 1, "a limit below 1 still keeps the entry just made");
    });
    it("prints one line per entry with the releases, who, the gate and why", () => {
        assert.strictEqual(formatHistoryEntry({ ...entry(1), kind: "auto-rollback", fromRelease: "r2", toRelease: "r1", gate: "not-run", why: "alarm x fired" }),
            "2026-11-23T10:01:00Z  auto-rollback red -> black (r2 -> r1)  by ci  gate not-run  why: alarm x fired");
    });
    it("status shows the last five, and all of them as data", () => {
        const history = [1, 2, 3, 4, 5, 6, 7].map(entry);
        const st = buildStatus(state({ deployed: ["red", "black"], live: "black" }), { history });
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
