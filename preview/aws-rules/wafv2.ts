// AWS WAF (v2) creation rules for the web ACL and its association (AWS WAF API reference, WebACL
// and VisibilityConfig data types, CreateWebACL, AssociateWebACL).
import { AwsRule, enumRule, stringRule } from "./rule";

const ACL = "aws:wafv2/webAcl:WebAcl";
const WEB_ACL_TYPE = "AWS WAF API reference, WebACL data type (API_WebACL.html)";

export const WAFV2_RULES: AwsRule[] = [
    stringRule({
        id: "wafv2.web-acl-name", types: [ACL], input: "name", required: true, max: 128, pattern: /^[\w-]+$/,
        rule: "1 to 128 word characters and hyphens", source: `${WEB_ACL_TYPE}, Name`,
    }),
    stringRule({
        id: "wafv2.web-acl-description", types: [ACL], input: "description", max: 256, pattern: /^[\w+=:#@/\-,.][\w+=:#@/\-,.\s]+[\w+=:#@/\-,.]$/,
        rule: "1 to 256 of word characters, spaces and + = : # @ / - , . (no * ( ) ' or other punctuation), not starting or ending with a space",
        source: `${WEB_ACL_TYPE}, Description (pattern ^[\\w+=:#@/\\-,\\.][\\w+=:#@/\\-,\\.\\s]+[\\w+=:#@/\\-,\\.]$)`,
    }),
    enumRule({ id: "wafv2.scope", types: [ACL], input: "scope", allowed: ["REGIONAL", "CLOUDFRONT"], source: "AWS WAF API reference, CreateWebACL (API_CreateWebACL.html), Scope" }),
    stringRule({
        id: "wafv2.metric-name", types: [ACL], input: "visibilityConfig.metricName", required: true, max: 255, pattern: /^[\w#:.\-/]+$/,
        rule: "1 to 255 of word characters and # : . - /", source: "AWS WAF API reference, VisibilityConfig data type (API_VisibilityConfig.html), MetricName",
    }),
    stringRule({
        id: "wafv2.association-resource", types: ["aws:wafv2/webAclAssociation:WebAclAssociation"], input: "resourceArn", required: true,
        pattern: /^arn:[a-z-]+:(apigateway:[a-z0-9-]+::\/restapis\/[^/]+\/stages\/[^/]+|elasticloadbalancing:.+|appsync:.+|cognito-idp:.+|apprunner:.+|ec2:.+)$/,
        rule: "the ARN of a resource WAF protects; for API Gateway a REST API stage, arn:<partition>:apigateway:<region>::/restapis/<id>/stages/<stage>",
        source: "AWS WAF API reference, AssociateWebACL (API_AssociateWebACL.html), ResourceArn",
    }),
];
