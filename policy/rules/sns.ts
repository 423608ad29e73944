// Rule 7: SNS topics are encrypted with KMS.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTypes, isSet, read } from "./support";
import { T } from "./types";

export const snsTopicEncrypted: ResourceValidationPolicy = {
    name: "sns-topic-encrypted",
    description: "SNS topics are encrypted at rest with a KMS key (kmsMasterKeyId).",
    remediationSteps: "Set kmsMasterKeyId on the aws.sns.Topic: \"alias/aws/sns\" or a customer managed key.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([T.topic], (args, report) => {
        if (!isSet(read(args.props, "kmsMasterKeyId"))) {
            report(`${args.name}: no kmsMasterKeyId, so messages are stored unencrypted; set kmsMasterKeyId ("alias/aws/sns" or a customer managed key).`);
        }
    }),
};
