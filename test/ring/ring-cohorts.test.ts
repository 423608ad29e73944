// Header cohorts, end to end against the stand-in pulumi and AWS: `ring cohort` adds an API Gateway
// routing rule to the live pointer's stack, requests to the domain carrying the header reach the named
// slot while everyone else stays on the live one, the flip's gate probes the slot through the domain
// with the header, `status` lists them, and a flip ends them.
import * as assert from "assert";
import { GetDomainNameCommand } from "@aws-sdk/client-api-gateway";
import { DOMAIN, Harness, eachTestDeployed } from "./harness";

describe("ring: header cohorts", function () {
    this.timeout(300_000);
    let h: Harness;
    eachTestDeployed((x) => (h = x), () => h);

    /** What the domain serves a request with these headers: the slot's heartbeat release. */
    async function served(headers: Record<string, string> = {}): Promise<string> {
        const res = await h.stage.fetch(`https://${DOMAIN}/heartbeat`, { headers });
        return (JSON.parse(await res.text()) as { release: string }).release;
    }

    it("refuses a domain that routes by its mapping only, naming the routing mode and the command that changes it", async () => {
        const r = await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /api\.example\.edu routes with BASE_PATH_MAPPING_ONLY: cohorts need routing rules evaluated before the base path mapping \(ROUTING_RULE_THEN_BASE_PATH_MAPPING\)/);
        assert.match(r.stderr, /fix: aws apigateway update-domain-name --domain-name api\.example\.edu --patch-operations op=replace,path=\/routingMode,value=ROUTING_RULE_THEN_BASE_PATH_MAPPING/);
        assert.deepStrictEqual(h.apiGatewayMock.commandCalls(GetDomainNameCommand).map((c) => c.args[0].input), [{ domainName: DOMAIN }]);
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });

    it("sends the cohort's requests to the idle slot through the production hostname; everyone else stays on the live one", async () => {
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        const r = await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta*", "--reason", "testers");
        assert.strictEqual(r.code, 2, "--reason is for flip and rollback only");
        const ok = await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta*");
        assert.strictEqual(ok.code, 0, ok.stderr);
        assert.strictEqual(ok.stdout.trim(), "cohort: X-Ring-Cohort=beta* -> black (priority 100)");
        assert.deepStrictEqual(h.callsOf("up").map((p) => p.flags.get("--stack")?.[0]), ["live"], "one update of the live pointer's stack");
        const black = String(h.outputs("black").releaseId);
        const red = String(h.outputs("red").releaseId);
        assert.strictEqual(await served({ "x-ring-cohort": "beta-2" }), black, "header names match case-insensitively, the glob as a prefix");
        assert.strictEqual(await served({ "X-Ring-Cohort": "Beta" }), red, "values match case-sensitively");
        assert.strictEqual(await served(), red);
        assert.deepStrictEqual(h.pointer().cohorts, [{ slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta*" }], priority: 100 }]);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("red").restApiId, stage: "red" }, "the mapping still serves red");
    });

    it("status lists the cohorts; --json gives them per slot", async () => {
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        assert.strictEqual((await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta", "--header", "X-Team=qa", "--priority", "50")).code, 0);
        const text = (await h.run("status")).stdout;
        assert.match(text, /^ {2}X-Ring-Cohort=beta and X-Team=qa -> black \(priority 50\)$/m);
        const j = JSON.parse((await h.run("status", "--json")).stdout) as { cohorts: unknown[]; slots: { slot: string; cohorts: unknown[] }[] };
        assert.strictEqual(j.cohorts.length, 1);
        assert.deepStrictEqual(j.slots.map((s) => [s.slot, s.cohorts.length]), [["red", 0], ["black", 1]]);
    });

    it("refuses what API Gateway would, before anything runs, naming the header and the rule", async () => {
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        const cases: [string[], number, RegExp][] = [
            [["cohort", "black", "--header", "Authorization=x"], 3, /header 1 name "Authorization": API Gateway refuses authorization as a routing rule condition/],
            [["cohort", "black", "--header", "X-Ring-Cohort=be*ta"], 3, /expected \* only at the start or the end/],
            [["cohort", "black", "--header", "A=1", "--header", "B=2", "--header", "C=3"], 3, /expected 1 or 2 headers .*got 3/],
            [["cohort", "black", "--header", "X-Ring-Cohort=beta", "--priority", "0"], 3, /priority 0: expected a whole number from 1 to 1,000,000/],
            [["cohort", "black", "--header", "X-Ring-Cohort=beta", "--priority", "high"], 2, /--priority "high": expected a whole number/],
            [["cohort", "black", "--header", "X-Ring-Cohort"], 2, /--header "X-Ring-Cohort": expected NAME=VALUE/],
            [["cohort", "red", "--header", "X-Ring-Cohort=beta"], 3, /slot "red" is live: every request reaches it already/],
            [["cohort", "--header", "X-Ring-Cohort=beta"], 2, /cohort needs the slot its requests reach/],
            [["cohort", "--remove", "--header", "X-Ring-Cohort=beta"], 3, /no cohort matches X-Ring-Cohort=beta \(cohorts: none\)/],
        ];
        for (const [args, code, message] of cases) {
            const r = await h.run(...args);
            assert.strictEqual(r.code, code, `${args.join(" ")}: ${r.stderr}`);
            assert.match(r.stderr, message, args.join(" "));
        }
        assert.deepStrictEqual(h.mutatingCalls(), []);
    });

    it("the flip's gate probes the target through the domain with the cohort's header, and refuses when the domain does not reach it", async () => {
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        assert.strictEqual((await h.run("cohort", "black", "--header", "X-Ring-Cohort=*beta*")).code, 0);
        // The rule sends the cohort elsewhere (edited in the console): the probe through the domain sees red.
        const st = h.state();
        const rule = st.aws?.routingRules?.[DOMAIN]?.[0];
        assert.ok(rule);
        rule.actions[0].invokeApi = { apiId: String(h.outputs("red").restApiId), stage: "red" };
        h.writeState(st);
        let r = await h.run("flip", "black", "--no-bake");
        assert.strictEqual(r.code, 3, r.stderr);
        assert.match(r.stderr, /GET https:\/\/api\.example\.edu\/heartbeat with X-Ring-Cohort: beta: expected HTTP 200 with release "release-2026-11-23\.2", got HTTP 200 with release "release-2026-11-23\.1"/);
        assert.strictEqual(h.pointer().liveSlot, "red");
        rule.actions[0].invokeApi = { apiId: String(h.outputs("black").restApiId), stage: "black" };
        h.writeState(st);
        r = await h.run("flip", "black", "--no-bake", "--reason", "beta went well");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /gate: ok {3}GET https:\/\/api\.example\.edu\/heartbeat with X-Ring-Cohort: beta: expected HTTP 200 with release "release-2026-11-23\.2"/);
    });

    it("a flip ends every cohort, records which, and the domain routes by its mapping alone again", async () => {
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        assert.strictEqual((await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta")).code, 0);
        const r = await h.run("flip", "black", "--no-bake", "--reason", "release 2");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stderr, /flip: red -> black on the live pointer's stack live, ending 1 cohort\(s\)/);
        assert.deepStrictEqual(h.pointer().cohorts, []);
        assert.deepStrictEqual(h.state().aws?.routingRules?.[DOMAIN], []);
        const [entry] = await h.history();
        assert.deepStrictEqual(entry.removedCohorts, [{ slot: "black", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 }]);
        assert.strictEqual(await served({ "X-Ring-Cohort": "beta" }), String(h.outputs("black").releaseId));
        assert.match((await h.run("status")).stdout, /ended cohorts: X-Ring-Cohort=beta -> black \(priority 100\)/);
    });

    it("a flip whose mapping was updated but whose routing-rule step failed says what AWS and the live pointer hold now, and how to finish", async () => {
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        assert.strictEqual((await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta")).code, 0);
        h.failStep("delete", "aws:apigatewayv2/routingRule:RoutingRule", "deleting API Gateway v2 Routing Rule: TooManyRequestsException: Too Many Requests");
        const r = await h.run("flip", "black", "--no-bake", "--reason", "release 2");
        assert.strictEqual(r.code, 1, r.stderr);
        assert.match(r.stderr, /flip to slot "black" on stack live failed:\n.*TooManyRequestsException/);
        assert.doesNotMatch(r.stderr, /did not change|still points at red/);
        assert.deepStrictEqual(h.awsMapping(), { restApiId: h.outputs("black").restApiId, stage: "black" });
        assert.match(r.stderr, new RegExp(`fix: the flip took effect before the update failed: AWS maps api\\.example\\.edu/ to black \\(api ${String(h.outputs("black").restApiId)}, stage black\\) and the live pointer says black`));
        assert.match(r.stderr, /Finish it with an update of the live pointer that changes nothing else: `\(cd live && pulumi up --yes --skip-preview --stack live\)`/);
        // The advice holds: the plain update removes the rule left behind and keeps black live.
        h.failStep("delete", "aws:apigatewayv2/routingRule:RoutingRule", null);
        h.up("live", h.liveDir);
        assert.deepStrictEqual(h.state().aws?.routingRules?.[DOMAIN], []);
        assert.deepStrictEqual([h.pointer().liveSlot, h.awsMapping()?.stage], ["black", "black"]);
    });

    it("--remove ends one cohort and keeps what is live; the same headers again re-point it", async () => {
        await h.cleanup();
        h = await Harness.create({ order: ["red", "black", "blue"] });
        h.deploy(["red", "black", "blue"], "red");
        h.setRoutingMode("ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        assert.strictEqual((await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta")).code, 0);
        assert.strictEqual((await h.run("cohort", "blue", "--header", "X-Ring-Cohort=beta")).code, 0);
        assert.deepStrictEqual(h.pointer().cohorts, [{ slot: "blue", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 }]);
        assert.strictEqual(await served({ "X-Ring-Cohort": "beta" }), String(h.outputs("blue").releaseId));
        const r = await h.run("cohort", "--remove", "--header", "x-ring-cohort=beta");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(r.stdout.trim(), "removed: X-Ring-Cohort=beta -> blue (priority 100)");
        assert.deepStrictEqual([h.pointer().cohorts, h.pointer().liveSlot], [[], "red"]);
        assert.strictEqual(await served({ "X-Ring-Cohort": "beta" }), String(h.outputs("red").releaseId));
    });

    it("a domain the live pointer creates takes the routing mode its first cohort needs in the cohort's own update, and keeps it after", async () => {
        h.setConfig("live", "domain:certificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444", h.liveDir);
        const st = h.state();
        delete st.aws?.domains?.[DOMAIN];
        h.writeState(st);
        assert.strictEqual(h.pulumi(["up", "--yes", "--skip-preview", "--stack", "live"], h.liveDir).code, 0);
        assert.strictEqual(h.state().aws?.domains?.[DOMAIN]?.routingMode, "BASE_PATH_MAPPING_ONLY", "no cohort yet: API Gateway's default");
        const domainCalls = () => (h.state().aws?.calls ?? []).filter((c) => c.type === "aws:apigateway/domainName:DomainName").map((c) => c.op);
        const r = await h.run("cohort", "black", "--header", "X-Ring-Cohort=beta");
        assert.strictEqual(r.code, 0, r.stderr);
        assert.strictEqual(h.apiGatewayMock.commandCalls(GetDomainNameCommand).length, 0, "the program made the domain, so it sets the mode itself");
        assert.strictEqual(h.state().aws?.domains?.[DOMAIN]?.routingMode, "ROUTING_RULE_THEN_BASE_PATH_MAPPING");
        assert.deepStrictEqual(domainCalls(), ["create", "update"], "created, then the mode set in place with the first rule");
        assert.strictEqual(await served({ "X-Ring-Cohort": "beta" }), String(h.outputs("black").releaseId));
        assert.strictEqual((await h.run("cohort", "--remove", "--header", "X-Ring-Cohort=beta")).code, 0);
        assert.deepStrictEqual(domainCalls(), ["create", "update"], "ending the last cohort leaves the domain's mode as it is");
        assert.strictEqual(h.state().aws?.domains?.[DOMAIN]?.routingMode, "ROUTING_RULE_THEN_BASE_PATH_MAPPING");
    });
});
