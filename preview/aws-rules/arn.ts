// Every ARN a resource is given is in the partition of the region it is created in: aws-cn for the
// China regions, aws-us-gov for GovCloud, aws elsewhere. An ARN of another partition names nothing
// there (an AWS managed policy arn:aws:iam::aws:policy/... does not exist in aws-cn). Source: AWS
// General Reference, "Amazon Resource Names (ARNs)" (partition) and IAM user guide "IAM identifiers".
import { AwsRule, Finding } from "./rule";

const ARN = /\barn:(aws(?:-[a-z]+)*):/g;

function findArns(value: unknown, at: string, out: { at: string; partition: string; text: string }[]): void {
    if (typeof value === "string") {
        for (const m of value.matchAll(ARN)) out.push({ at, partition: m[1], text: value.slice(m.index ?? 0, (m.index ?? 0) + 80).split(/["\s]/)[0] });
    } else if (Array.isArray(value)) {
        value.forEach((v, i) => findArns(v, at ? `${at}.${i}` : String(i), out));
    } else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) findArns(v, at ? `${at}.${k}` : k, out);
    }
}

export const ARN_RULES: AwsRule[] = [{
    id: "arn.partition", types: ["*"], input: "any ARN",
    rule: "an ARN names the partition of the region it is used in (aws, aws-cn, aws-us-gov)",
    source: "AWS General Reference, \"Amazon Resource Names (ARNs)\", partition",
    check(inputs, context) {
        const found: { at: string; partition: string; text: string }[] = [];
        findArns(inputs, "", found);
        return found.filter((a) => a.partition !== context.partition)
            .map((a): Finding => ({ input: a.at, value: a.text, detail: `partition ${a.partition} in ${context.region}, whose partition is ${context.partition}` }));
    },
}];
