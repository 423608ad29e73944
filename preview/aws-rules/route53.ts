// Route 53 record rules (Route 53 API reference, ChangeResourceRecordSets / ResourceRecordSet).
import { AwsRule, enumRule } from "./rule";

const RECORD = "aws:route53/record:Record";

export const ROUTE53_RULES: AwsRule[] = [
    enumRule({ id: "route53.record-type", types: [RECORD], input: "type", allowed: ["A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA", "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT"], source: "Route 53 API reference, ResourceRecordSet (API_ResourceRecordSet.html), Type" }),
    {
        id: "route53.alias-or-records", types: [RECORD], input: "aliases/records",
        rule: "an alias target, or records with a TTL, not both", source: "Route 53 API reference, ResourceRecordSet, AliasTarget (\"If you specify AliasTarget you cannot specify ResourceRecords or TTL\")",
        check(inputs) {
            const alias = Array.isArray(inputs.aliases) && inputs.aliases.length > 0;
            const records = Array.isArray(inputs.records) && inputs.records.length > 0;
            return alias !== records && !(alias && inputs.ttl !== undefined) ? [] : [{ input: alias ? "records/ttl" : "aliases", value: alias ? "both" : "neither" }];
        },
    },
];
