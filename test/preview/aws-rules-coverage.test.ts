// Every AWS resource type the program creates is checked by at least one of the mock cloud's AWS
// rules (preview/aws-rules/) written for that type: a type added to the program with no rule fails
// here, over the previews of both slots and of the live pointer with everything it can create (the
// domain, its alias record, a cohort's routing rule).
import * as assert from "assert";
import * as path from "path";
import { AWS_RULES } from "../../preview/aws-rules";
import { OfflineRun, previewStack } from "../../preview/cli";

const LIVE = path.resolve(__dirname, "..", "..", "..", "live");
const CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f0f0f0f-1111-2222-3333-444444444444";
/** The live pointer's last state: black live, a header cohort on red. */
const LIVE_STATE = {
    liveSlot: "black", previousLive: "red", ringHistory: [], liveUrl: "https://api.example.edu/", domainName: "api.example.edu",
    cohorts: [{ slot: "red", headers: [{ name: "X-Ring-Cohort", value: "beta" }], priority: 100 }],
};

/** The AWS resource types a preview creates: custom resources, without the engine's own (pulumi:...). */
function awsTypes(run: OfflineRun): string[] {
    return [...new Set(run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:")).map((r) => r.type))].sort();
}

/** Types a rule names; the rules for every type ("*", ARN partitions) cover none on their own. */
const RULED = new Set(AWS_RULES.flatMap((rule) => rule.types).filter((type) => type !== "*"));

describe("the mock cloud's AWS rules cover every resource type the program creates", function () {
    this.timeout(240_000);
    const runs = new Map<string, OfflineRun>();
    /** Each preview, run once. */
    const once = (key: string, run: () => OfflineRun) => (): OfflineRun => {
        if (!runs.has(key)) runs.set(key, run());
        return runs.get(key) as OfflineRun;
    };
    const previews: [string, () => OfflineRun][] = [
        ["red", once("red", () => previewStack("red"))],
        ["black", once("black", () => previewStack("black"))],
        ["live (domain, alias record, a cohort)", once("live", () => previewStack("live", {
            projectDir: LIVE,
            overrides: { "domain:certificateArn": CERTIFICATE, "domain:hostedZoneId": "Z0123456789ABCDEFGHIJ" },
            deployed: { live: LIVE_STATE },
        }))],
    ];
    for (const [stack, preview] of previews) {
        it(`${stack}: every type has a rule of its own`, () => {
            const types = awsTypes(preview());
            assert.ok(types.length > 0, "the preview created AWS resources");
            assert.deepStrictEqual(types.filter((type) => !RULED.has(type)), [], `types with no AWS rule in ${stack}`);
        });
    }

    it("the live pointer's preview includes the domain, its alias record and the cohort's routing rule", () => {
        // Without them the coverage above would pass vacuously for the live pointer's types.
        const types = awsTypes(previews[2][1]());
        for (const type of ["aws:apigateway/domainName:DomainName", "aws:route53/record:Record", "aws:apigatewayv2/routingRule:RoutingRule", "aws:apigateway/basePathMapping:BasePathMapping"]) {
            assert.ok(types.includes(type), `${type} in ${types.join(", ")}`);
        }
    });
});
