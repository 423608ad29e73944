// Header cohorts: what API Gateway takes in a routing rule (AWS, "Routing rules to connect API stages
// to a custom domain name for REST APIs", Restrictions), refused before anything is deployed.
import * as assert from "assert";
import { cohortProblems, headerProblems, nextPriority, parseHeader, probeValue, sameHeaders } from "../../live/cohorts";
import type { Cohort } from "../../outputs";

const cohort = (value: string, priority = 100, name = "X-Ring-Cohort"): Cohort => ({ slot: "black", headers: [{ name, value }], priority });

describe("cohorts: header names and value globs as API Gateway takes them", () => {
    it("takes token names and globs with * at the start, the end or both", () => {
        for (const value of ["beta", "beta*", "*beta", "*beta*", "*", "v1.2_rc-3~x"]) assert.deepStrictEqual(headerProblems({ name: "X-Ring-Cohort", value }), [], value);
    });
    it("refuses * in the middle of a value, naming the field and the rule", () => {
        assert.deepStrictEqual(headerProblems({ name: "X-Ring-Cohort", value: "be*ta" }),
            ['header value "be*ta": expected * only at the start or the end (beta, beta*, *beta, *beta*), never in the middle']);
    });
    it("refuses characters outside RFC 7230 tokens, in names and values", () => {
        assert.match(headerProblems({ name: "X Ring", value: "beta" })[0], /^header name "X Ring": expected a header name of letters, digits/);
        assert.match(headerProblems({ name: "X-Ring", value: "be/ta" })[0], /^header value "be\/ta": expected a value glob of letters, digits/);
        assert.match(headerProblems({ name: "", value: "" }).join("\n"), /header name "".*\n.*header value ""/);
    });
    it("refuses wildcard header names", () => {
        assert.match(headerProblems({ name: "X-Ring-*", value: "beta" })[0], /expected a header name without \*/);
    });
    it("bounds lengths: names under 40, values under 128, *contains* values under 40", () => {
        assert.match(headerProblems({ name: "X".repeat(40), value: "b" })[0], /expected fewer than 40 characters, got 40/);
        assert.deepStrictEqual(headerProblems({ name: "X".repeat(39), value: "b".repeat(127) }), []);
        assert.match(headerProblems({ name: "X", value: "b".repeat(128) })[0], /expected fewer than 128 characters, got 128/);
        assert.match(headerProblems({ name: "X", value: `*${"b".repeat(38)}*` })[0], /expected fewer than 40 characters for a \*contains\* match, got 40/);
        assert.deepStrictEqual(headerProblems({ name: "X", value: `${"b".repeat(38)}*` }), []);
    });
    it("refuses the headers API Gateway does not route on, prefixes and case included", () => {
        for (const name of ["Authorization", "content-length", "X-Amz-Date", "x-amzn-trace-id", "Access-Control-Request-Method", "apigw-x", "Via", "X-Forwarded-For", "x-restapi"]) {
            assert.match(headerProblems({ name, value: "x" })[0] ?? "", /API Gateway refuses .* as a routing rule condition/, name);
        }
    });
});

describe("cohorts: a set of rules on one domain", () => {
    it("one or two headers a rule; priorities 1 to 1,000,000, unique; no two cohorts for the same requests", () => {
        assert.deepStrictEqual(cohortProblems([cohort("beta"), cohort("gamma", 200)]), []);
        const three: Cohort = { slot: "black", headers: [{ name: "A", value: "1" }, { name: "B", value: "2" }, { name: "C", value: "3" }], priority: 1 };
        assert.match(cohortProblems([three])[0], /expected 1 or 2 headers .*got 3/);
        assert.match(cohortProblems([cohort("beta", 0)])[0], /priority 0: expected a whole number from 1 to 1,000,000/);
        assert.match(cohortProblems([cohort("beta", 1_000_001)])[0], /priority 1000001: expected a whole number from 1 to 1,000,000/);
        assert.match(cohortProblems([cohort("beta"), cohort("gamma")])[0], /cohort 2 .*priority 100: expected a priority no other rule has; cohort 1 has it/);
        assert.match(cohortProblems([cohort("beta", 100), cohort("beta", 200, "x-ring-cohort")])[0], /cohort 2 .*cohort 1 matches the same requests/);
    });
    it("header names match case-insensitively, values as written", () => {
        assert.ok(sameHeaders([{ name: "X-Ring-Cohort", value: "beta" }], [{ name: "x-ring-cohort", value: "beta" }]));
        assert.ok(!sameHeaders([{ name: "X-Ring-Cohort", value: "beta" }], [{ name: "X-Ring-Cohort", value: "Beta" }]));
    });
    it("hands out priorities with gaps, after the highest", () => {
        assert.strictEqual(nextPriority([]), 100);
        assert.strictEqual(nextPriority([cohort("a", 100), cohort("b", 250)]), 300);
    });
    it("parses NAME=VALUE, and refuses anything else", () => {
        assert.deepStrictEqual(parseHeader("X-Ring-Cohort=beta=1"), { name: "X-Ring-Cohort", value: "beta=1" });
        assert.throws(() => parseHeader("X-Ring-Cohort"), /--header "X-Ring-Cohort": expected NAME=VALUE/);
    });
    it("probes a glob with a value it matches", () => {
        assert.deepStrictEqual(["beta", "beta*", "*beta", "*beta*", "*"].map(probeValue), ["beta", "beta", "beta", "beta", "ring-gate"]);
    });
});
