// Rule 15: a REST API imported from a body fails on the import's warnings. A house rule, not AWS's: AWS
// accepts failOnWarnings unset (API reference, PutRestApi: failonwarnings defaults to false) and then
// imports what it can, dropping each part it warns of, and terraform-provider-aws never reads the
// warnings it returns (internal/service/apigateway/rest_api.go), so nothing says a part is missing.
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, describe, forTypes, isSet, read } from "./support";
import { T } from "./types";

export const restApiFailsOnWarnings: ResourceValidationPolicy = {
    name: "rest-api-fails-on-warnings",
    description: "A REST API imported from an OpenAPI body sets failOnWarnings: true, so what PutRestApi cannot import fails the update instead of being dropped.",
    remediationSteps: "Set failOnWarnings: true on the aws.apigateway.RestApi that has a body.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([T.restApi], (args, report) => {
        const failOnWarnings = read(args.props, "failOnWarnings");
        if (!isSet(read(args.props, "body")) || failOnWarnings === true || failOnWarnings === UNKNOWN) return;
        report(`${args.name}: failOnWarnings is ${describe(failOnWarnings)}; set it to true, so a part of the body PutRestApi cannot import fails the update instead of being dropped (the provider never reads the import's warnings).`);
    }),
};
