import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTypes } from "./support";

export const topicEncrypted: ResourceValidationPolicy = {
    name: "sns-topic-encrypted",
    description: "SNS topics are encrypted with KMS.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(["aws:sns/topic:Topic"], (props, args, report) => {
        if (!props.kmsMasterKeyId) report(`${args.name}: no kmsMasterKeyId; set one (alias/aws/sns or a customer key) so usage messages are encrypted at rest.`);
    }),
};
