import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DECISION_SOURCES, METRICS_NAMESPACE, METRIC, SERVICE_DIMENSION, SOURCE_DIMENSION, serviceName } from "../handlers/metrics";
import { restApiNameFor } from "./gatewayRing";
import { SlotAlarmNames, bakeAlarmNames, slotAlarmNames } from "../outputs";

export interface RingDashboardArgs {
    project: string;
    /** Every slot of the ring, in ring order: one column each. */
    slots: string[];
    /** Period of the graphs, in seconds. */
    periodSeconds?: number;
}

/** One dashboard widget (CloudWatch dashboard body structure). */
interface Widget {
    type: "metric" | "alarm" | "text";
    x: number;
    y: number;
    width: number;
    height: number;
    properties: Record<string, unknown>;
}

/** One line of a metric widget: namespace, metric name, dimension pairs, then options. */
type MetricLine = (string | Record<string, unknown>)[];

const HEIGHT = 6;

/**
 * The ring's CloudWatch dashboard, built by the primary: every slot side by side (requests,
 * 4XX, 5XX, latency p50/p99; the authorizer's decisions by source, cache hit rate and 3scale
 * latency; its faults and throttles; the reporter's reports and failures; the dead-letter
 * queue depth), under the state of every slot's alarms. Everything is named from the
 * project and the slot (API names, the handlers' `service` dimension, alarm names), so the
 * primary needs no reference to a slot that may not exist yet.
 */
export class RingDashboard extends pulumi.ComponentResource {
    readonly dashboard: aws.cloudwatch.Dashboard;
    readonly dashboardName: pulumi.Output<string>;
    readonly dashboardUrl: pulumi.Output<string>;

    constructor(name: string, args: RingDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("api-ring:ring:RingDashboard", name, {}, opts);
        if (args.slots.length === 0) throw new Error(`RingDashboard ${name}: the ring has no slots; set ring:order`);
        const period = args.periodSeconds ?? 60;
        const region = aws.getRegionOutput({}, { parent: this }).apply((r) => r.region ?? r.name);
        const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
        const partition = aws.getPartitionOutput({}, { parent: this }).partition;
        const body = pulumi.all([region, account, partition]).apply(([r, a, p]) =>
            JSON.stringify({ widgets: ringWidgets(args.project, args.slots, r, (alarm) => `arn:${p}:cloudwatch:${r}:${a}:alarm:${alarm}`, period) }));

        this.dashboard = new aws.cloudwatch.Dashboard(`${name}-dashboard`, {
            dashboardName: args.project,
            dashboardBody: body,
        }, { parent: this });

        this.dashboardName = this.dashboard.dashboardName;
        this.dashboardUrl = pulumi.interpolate`https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${this.dashboard.dashboardName}`;
        this.registerOutputs({ dashboardName: this.dashboardName, dashboardUrl: this.dashboardUrl });
    }
}

/** The dashboard's widgets: a header, every alarm's state, then one column per slot. */
export function ringWidgets(project: string, slots: string[], region: string, alarmArn: (name: string) => string, period: number): Widget[] {
    const width = Math.max(4, Math.floor(24 / slots.length));
    const allAlarms = slots.flatMap((slot) => {
        const names = slotAlarmNames(project, slot);
        return [...bakeAlarmNames(names), names.deadLetters, names.rejectedUsage];
    });
    const widgets: Widget[] = [
        {
            type: "text", x: 0, y: 0, width: 24, height: 2,
            properties: { markdown: `# ${project}: the ring\nSlots side by side in ring order (${slots.join(", ")}). \`npm run ring -- status\` says which one is live.` },
        },
    ];
    // An alarm status widget takes at most 100 alarms.
    const perWidget = 100;
    const alarmRows = Math.max(1, Math.ceil(allAlarms.length / perWidget));
    for (let i = 0; i < allAlarms.length; i += perWidget) {
        widgets.push({
            type: "alarm", x: 0, y: 2 + (i / perWidget) * 3, width: 24, height: 3,
            properties: { title: "Alarms (a flip bakes on each slot's first four)", alarms: allAlarms.slice(i, i + perWidget).map(alarmArn) },
        });
    }
    slots.forEach((slot, column) => {
        const x = (column * width) % 24;
        const graphs = slotColumn(project, slot, region, alarmArn, period);
        // Slots beyond what fits in one row continue below.
        const top = 2 + alarmRows * 3 + Math.floor((column * width) / 24) * HEIGHT * graphs.length;
        graphs.forEach((w, row) => {
            widgets.push({ type: "metric", x, y: top + row * HEIGHT, width, height: HEIGHT, properties: w });
        });
    });
    return widgets;
}

/** A metric id for a decision source (ids are lower-case letters and digits). */
function sourceId(source: string): string {
    return `d${source.replace(/[^a-z0-9]/g, "")}`;
}

/** Decisions from the cache over all decisions, in percent. */
function cacheHitRate(): string {
    const all = DECISION_SOURCES.map((s) => `FILL(${sourceId(s)}, 0)`).join(" + ");
    return `100 * FILL(${sourceId("cache")}, 0) / (${all})`;
}

/** The widgets of one slot's column, top to bottom. */
function slotColumn(project: string, slot: string, region: string, alarmArn: (name: string) => string, period: number): Record<string, unknown>[] {
    const api = ["ApiName", restApiNameFor(slot), "Stage", slot];
    const service = [SERVICE_DIMENSION, serviceName(project, slot)];
    const alarms: SlotAlarmNames = slotAlarmNames(project, slot);
    const graph = (title: string, metrics: MetricLine[], extra: Record<string, unknown> = {}) =>
        ({ title: `${slot}: ${title}`, view: "timeSeries", stacked: false, region, period, metrics, ...extra });
    // A graph of an alarm's own metric with its threshold (one alarm per graph).
    const alarmGraph = (title: string, alarm: string) => ({ title: `${slot}: ${title}`, view: "timeSeries", region, period, annotations: { alarms: [alarmArn(alarm)] } });
    return [
        graph("requests, 4XX, 5XX", [
            ["AWS/ApiGateway", "Count", ...api, { stat: "Sum", label: "requests" }],
            ["AWS/ApiGateway", "4XXError", ...api, { stat: "Sum", label: "4XX" }],
            ["AWS/ApiGateway", "5XXError", ...api, { stat: "Sum", label: "5XX" }],
        ]),
        graph("latency (ms)", [
            ["AWS/ApiGateway", "Latency", ...api, { stat: "p50", label: "p50" }],
            ["AWS/ApiGateway", "Latency", ...api, { stat: "p99", label: "p99" }],
        ]),
        graph("authorizer decisions by source", DECISION_SOURCES.map((source) =>
            [METRICS_NAMESPACE, METRIC.decisions, ...service, SOURCE_DIMENSION, source, { stat: "Sum", label: source }])),
        graph("cache hit rate (%) and 3scale latency (ms)", [
            ...DECISION_SOURCES.map((source) =>
                [METRICS_NAMESPACE, METRIC.decisions, ...service, SOURCE_DIMENSION, source, { stat: "Sum", id: sourceId(source), visible: false }]),
            [{ expression: cacheHitRate(), label: "cache hit rate (%)", id: "hitRate" }],
            [METRICS_NAMESPACE, METRIC.threescaleLatency, ...service, { stat: "p50", label: "3scale p50", yAxis: "right" }],
            [METRICS_NAMESPACE, METRIC.threescaleLatency, ...service, { stat: "p99", label: "3scale p99", yAxis: "right" }],
        ]),
        alarmGraph("authorizer faults", alarms.authorizerErrors),
        alarmGraph("authorizer throttles", alarms.authorizerThrottles),
        graph("reporter: hits reported, calls, failures", [
            [METRICS_NAMESPACE, METRIC.reportedHits, ...service, { stat: "Sum", label: "hits reported" }],
            [METRICS_NAMESPACE, METRIC.reportCalls, ...service, { stat: "Sum", label: "transactions.xml calls" }],
            [METRICS_NAMESPACE, METRIC.reportFailures, ...service, { stat: "Sum", label: "failed runs" }],
            [METRICS_NAMESPACE, METRIC.rejectedHits, ...service, { stat: "Sum", label: "hits 3scale will never take" }],
            [METRICS_NAMESPACE, METRIC.refusedHits, ...service, { stat: "Sum", label: "hits of deleted applications" }],
            [METRICS_NAMESPACE, METRIC.unverifiedHits, ...service, { stat: "Sum", label: "hits assumed taken (unverifiable)" }],
            [METRICS_NAMESPACE, METRIC.atRiskHits, ...service, { stat: "Sum", label: "hits taken with no witness (at risk)" }],
        ]),
        alarmGraph("usage dead-letter queue depth", alarms.deadLetters),
    ];
}
