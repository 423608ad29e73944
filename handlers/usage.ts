// The usage nudge: the authorizer counts hits in Redis (decision-cache.ts) and, at most once per
// usage window per service, wakes the reporter (usage-reporter.ts) through SNS; a schedule flushes
// too. The authorizer loads only this module of the reporting side.

export interface UsageNudge {
    serviceId: string;
    /** "window": first counted hit of a window; "request": window 0, every counted hit. */
    reason: "window" | "request";
    at: string;
}

export interface UsagePublisher {
    publish(nudge: UsageNudge): Promise<void>;
}

/**
 * The SNS publisher used in Lambda. The SDK ships with the Node runtime (it is only a
 * devDependency here); it is loaded on the first publish, not at init: most cold starts end in a
 * cached decision that nudges nobody, and loading the client costs about 40 ms. A missing SDK only
 * fails the publish, never the module load. The SDK honours AWS_ENDPOINT_URL_SNS, which the tests
 * point at a local endpoint.
 */
export function createSnsPublisher(topicArn: string, timeoutMs = 1000): UsagePublisher {
    type Sns = typeof import("@aws-sdk/client-sns");
    let loading: Promise<{ sns: Sns; client: InstanceType<Sns["SNSClient"]> }> | undefined;
    return {
        async publish(nudge) {
            loading ??= import("@aws-sdk/client-sns").then((sns) => ({
                sns,
                // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes, and the publish hangs.
                client: new sns.SNSClient({ maxAttempts: 1, requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true } }),
            }));
            const { sns, client } = await loading;
            await client.send(new sns.PublishCommand({ TopicArn: topicArn, Message: JSON.stringify(nudge) }));
        },
    };
}
