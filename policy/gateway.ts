// API Gateway: every stage throttled, logged and access-logged; every non-public method
// behind the authorizer; the custom domain on TLS 1.2.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Props, asList, forTypes, ofType } from "./support";

export interface StageLimitsConfig {
    maxRateLimit: number;
    maxBurstLimit: number;
    logLevels: string[];
}

export const stageLimitsAndLogs: StackValidationPolicy = {
    name: "stage-throttling-and-logging",
    description: "Every stage has access logging, and method settings for */* with rate and burst limits and a log level.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            maxRateLimit: { type: "number", default: 5000, description: "Highest steady rate (requests per second) a stage may allow." },
            maxBurstLimit: { type: "number", default: 5000, description: "Highest burst a stage may allow." },
            logLevels: { type: "array", items: { type: "string" }, default: ["OFF", "ERROR", "INFO"], description: "Log levels a stage may use." },
        },
    },
    validateStack: (args, report) => {
        const limits = args.getConfig<StageLimitsConfig>();
        const settings = ofType(args.resources, "aws:apigateway/methodSettings:MethodSettings");
        for (const stage of ofType(args.resources, "aws:apigateway/stage:Stage")) {
            const s = stage.props as Props;
            if (!s.accessLogSettings?.destinationArn || !s.accessLogSettings?.format) {
                report(`stage ${s.stageName} (${stage.name}) has no access logging; set accessLogSettings with a destination log group and a format.`, stage.urn);
            }
            const mine = settings.filter((m) => {
                const p = m.props as Props;
                return p.stageName === s.stageName && p.restApi === s.restApi && p.methodPath === "*/*";
            });
            if (mine.length === 0) {
                report(`stage ${s.stageName} (${stage.name}) has no method settings for */*; add them with throttling limits and a log level.`, stage.urn);
                continue;
            }
            for (const m of mine) {
                const p = (m.props as Props).settings ?? {};
                const rate = Number(p.throttlingRateLimit);
                const burst = Number(p.throttlingBurstLimit);
                if (!(rate > 0)) report(`stage ${s.stageName}: throttlingRateLimit is ${p.throttlingRateLimit ?? "unset"}; set a rate above 0 (gateway:rateLimit).`, m.urn);
                else if (rate > limits.maxRateLimit) report(`stage ${s.stageName}: throttlingRateLimit ${rate} is above the policy's maximum ${limits.maxRateLimit}.`, m.urn);
                if (!(burst > 0)) report(`stage ${s.stageName}: throttlingBurstLimit is ${p.throttlingBurstLimit ?? "unset"}; set a burst above 0 (gateway:burstLimit).`, m.urn);
                else if (burst > limits.maxBurstLimit) report(`stage ${s.stageName}: throttlingBurstLimit ${burst} is above the policy's maximum ${limits.maxBurstLimit}.`, m.urn);
                if (!limits.logLevels.includes(p.loggingLevel)) report(`stage ${s.stageName}: loggingLevel is ${p.loggingLevel ?? "unset"}; set one of ${limits.logLevels.join(", ")} (gateway:logLevel).`, m.urn);
                if (p.cachingEnabled === true && p.cacheDataEncrypted !== true) report(`stage ${s.stageName}: response caching is on without cacheDataEncrypted; encrypt the cache.`, m.urn);
            }
        }
    },
};

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"];

export const methodsUseAuthorizer: ResourceValidationPolicy = {
    name: "methods-use-authorizer",
    description: "Every method of a REST API not marked public (security: []) uses a Lambda authorizer.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(["aws:apigateway/restApi:RestApi"], (props, args, report) => {
        if (typeof props.body !== "string") return;
        let doc: Props;
        try {
            doc = JSON.parse(props.body) as Props;
        } catch {
            report(`${args.name}: body is not JSON; the policy cannot check the authorizer coverage.`);
            return;
        }
        const schemes: Props = doc.swagger ? doc.securityDefinitions ?? {} : doc.components?.securitySchemes ?? {};
        const authorizers = Object.keys(schemes).filter((k) => schemes[k]?.["x-amazon-apigateway-authorizer"]);
        for (const [route, item] of Object.entries((doc.paths ?? {}) as Record<string, Props>)) {
            for (const method of METHODS.filter((m) => item[m])) {
                const security = item[method].security ?? doc.security;
                if (Array.isArray(security) && security.length === 0 && Array.isArray(item[method].security)) continue; // explicitly public
                const named = asList<Props>(security).flatMap((req) => Object.keys(req));
                if (!named.some((n) => authorizers.includes(n))) {
                    const label = method === "x-amazon-apigateway-any-method" ? "ANY" : method.toUpperCase();
                    report(`${args.name}: ${label} ${route} has no Lambda authorizer; add the authorizer's security requirement, or mark it public with security: [].`);
                }
            }
        }
    }),
};

export const domainTls12: ResourceValidationPolicy = {
    name: "domain-tls-1-2",
    description: "A custom domain uses the TLS 1.2 security policy.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(["aws:apigateway/domainName:DomainName"], (props, args, report) => {
        if (props.securityPolicy !== "TLS_1_2") report(`${args.name}: securityPolicy is ${props.securityPolicy ?? "unset (TLS 1.0)"}; set TLS_1_2.`);
    }),
};
