// What the ring commands ask AWS directly: which API and stage the custom domain's base path
// mapping points at (API Gateway GetBasePathMapping), the domain's routing mode and endpoint type
// (GetDomainName, before a cohort), and the state of a slot's alarms (CloudWatch DescribeAlarms). The SDK clients are handed in, so tests stub them at the SDK's
// own level (aws-sdk-client-mock) and the CLI uses real ones.
import { APIGatewayClient, GetBasePathMappingCommand, GetDomainNameCommand } from "@aws-sdk/client-api-gateway";
import { CloudWatchClient, DescribeAlarmsCommand, MetricAlarm } from "@aws-sdk/client-cloudwatch";
import { EXIT, RingError } from "./plan";
import type { AlarmState, LiveMapping } from "./plan";

export interface AwsClients {
    apiGateway: APIGatewayClient;
    cloudWatch: CloudWatchClient;
}

/** Makes the clients for a region (the primary's aws:region; undefined lets the SDK's own chain decide). */
export type AwsClientsFactory = (region: string | undefined) => AwsClients;

export const realAwsClients: AwsClientsFactory = (region) => ({
    apiGateway: new APIGatewayClient({ region }),
    cloudWatch: new CloudWatchClient({ region }),
});

/** DescribeAlarms takes at most 100 names a call. */
const NAMES_PER_CALL = 100;

/** How much breaching data an alarm fires on: its period (its metrics' longest, for metric math) times its datapoints to alarm. */
function firesAfter(a: MetricAlarm): AlarmState["firesAfter"] {
    const periodSeconds = a.Period ?? Math.max(0, ...(a.Metrics ?? []).map((m) => m.MetricStat?.Period ?? m.Period ?? 0));
    const datapoints = a.DatapointsToAlarm ?? a.EvaluationPeriods;
    return periodSeconds > 0 && datapoints !== undefined ? { periodSeconds, datapoints } : undefined;
}

function describeError(err: unknown): string {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return String(err);
}

export class RingAws {
    constructor(private readonly clients: AwsClients, private readonly region: string | undefined) {}

    private failure(what: string, err: unknown): RingError {
        return new RingError(`${what} failed: ${describeError(err)}`, EXIT.failed,
            `check the AWS credentials the ring commands run with (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...) and the region ` +
            `(${this.region ? `aws:region is ${this.region}` : "no aws:region on the primary; AWS_REGION decides"})`);
    }

    /** What the domain's mapping at `basePath` ("" is the root) points at; null when there is none. */
    async liveMapping(domainName: string, basePath: string): Promise<LiveMapping | null> {
        try {
            const m = await this.clients.apiGateway.send(new GetBasePathMappingCommand({ domainName, basePath: basePath === "" ? "(none)" : basePath }));
            if (!m.restApiId) return null;
            return { restApiId: m.restApiId, stage: m.stage ?? "" };
        } catch (err) {
            if (err instanceof Error && err.name === "NotFoundException") return null;
            throw this.failure(`reading the live mapping of ${domainName}/${basePath} from AWS (GetBasePathMapping)`, err);
        }
    }

    /** The custom domain's routing mode (BASE_PATH_MAPPING_ONLY when API Gateway names none) and endpoint types; null when it does not exist. */
    async domain(domainName: string): Promise<{ routingMode: string; endpointTypes: string[] } | null> {
        try {
            const d = await this.clients.apiGateway.send(new GetDomainNameCommand({ domainName }));
            return { routingMode: d.routingMode ?? "BASE_PATH_MAPPING_ONLY", endpointTypes: d.endpointConfiguration?.types ?? [] };
        } catch (err) {
            if (err instanceof Error && err.name === "NotFoundException") return null;
            throw this.failure(`reading the custom domain ${domainName} from AWS (GetDomainName)`, err);
        }
    }

    /** The state of each named alarm, in the order given; MISSING for an alarm that does not exist. */
    async alarmStates(names: readonly string[]): Promise<AlarmState[]> {
        const found = new Map<string, AlarmState>();
        try {
            for (let i = 0; i < names.length; i += NAMES_PER_CALL) {
                const batch = names.slice(i, i + NAMES_PER_CALL);
                let nextToken: string | undefined;
                do {
                    const page = await this.clients.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNames: batch, NextToken: nextToken }));
                    for (const a of page.MetricAlarms ?? []) {
                        if (a.AlarmName) found.set(a.AlarmName, { name: a.AlarmName, state: a.StateValue ?? "INSUFFICIENT_DATA", reason: a.StateReason, firesAfter: firesAfter(a) });
                    }
                    nextToken = page.NextToken;
                } while (nextToken);
            }
        } catch (err) {
            throw this.failure(`reading the alarms ${names.join(", ")} from CloudWatch (DescribeAlarms)`, err);
        }
        return names.map((name) => found.get(name) ?? { name, state: "MISSING" });
    }
}
