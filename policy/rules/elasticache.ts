// Rule 1: the decision cache encrypts in transit and at rest and requires an AUTH token.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, describe, forTypes, isSet, read } from "./support";
import { T } from "./types";

export const redisEncryptionAndAuth: ResourceValidationPolicy = {
    name: "redis-encryption-and-auth",
    description: "ElastiCache replication groups encrypt in transit (TLS required, not 'preferred') and at rest, and require an AUTH token.",
    remediationSteps: "Set transitEncryptionEnabled: true, atRestEncryptionEnabled: true and authToken (a Pulumi secret) on the aws.elasticache.ReplicationGroup.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([T.replicationGroup], (args, report) => {
        const transit = read(args.props, "transitEncryptionEnabled");
        const atRest = read(args.props, "atRestEncryptionEnabled");
        const mode = read(args.props, "transitEncryptionMode");
        if (transit !== true && transit !== UNKNOWN) {
            report(`${args.name}: transitEncryptionEnabled is ${describe(transit)}; set it to true so tokens and decisions never cross the VPC in clear text.`);
        }
        if (mode === "preferred") {
            report(`${args.name}: transitEncryptionMode is "preferred", which still accepts unencrypted connections; set it to "required" (or leave it unset).`);
        }
        if (atRest !== true && atRest !== UNKNOWN) {
            report(`${args.name}: atRestEncryptionEnabled is ${describe(atRest)}; set it to true so cached decisions are encrypted on disk.`);
        }
        if (!isSet(read(args.props, "authToken"))) {
            report(`${args.name}: no authToken; set one (16-128 characters, a Pulumi secret) so only clients holding it can connect.`);
        }
    }),
};
