// CloudWatch (Logs, EventBridge, alarms, dashboards) creation rules: CloudWatch Logs API reference
// CreateLogGroup / PutRetentionPolicy, EventBridge PutRule / PutTargets, CloudWatch PutMetricAlarm /
// PutDashboard.
import { AwsRule, Inputs, enumRule, rangeRule, stringRule } from "./rule";

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const RULE = "aws:cloudwatch/eventRule:EventRule";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";
const PUT_ALARM = "CloudWatch API reference, PutMetricAlarm (API_PutMetricAlarm.html)";

export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

export const CLOUDWATCH_RULES: AwsRule[] = [
    stringRule({
        id: "logs.log-group-name", types: [LOG_GROUP], input: "name", required: true, max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/,
        rule: "1 to 512 of a-z, A-Z, 0-9, _ - / . #", source: "CloudWatch Logs API reference, CreateLogGroup (API_CreateLogGroup.html), logGroupName",
    }),
    enumRule({ id: "logs.retention", types: [LOG_GROUP], input: "retentionInDays", allowed: RETENTION_DAYS, source: "CloudWatch Logs API reference, PutRetentionPolicy (API_PutRetentionPolicy.html), retentionInDays" }),
    stringRule({
        id: "events.rule-name", types: [RULE], input: "name", required: true, max: 64, pattern: /^[.\-_A-Za-z0-9]+$/,
        rule: "1 to 64 of letters, digits, . - _", source: "EventBridge API reference, PutRule (API_PutRule.html), Name",
    }),
    stringRule({
        id: "events.schedule", types: [RULE], input: "scheduleExpression", max: 256, pattern: /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(\S+( \S+){5}\))$/,
        rule: "rate(value unit) or cron(six fields), at most 256 characters", source: "EventBridge API reference, PutRule, ScheduleExpression; EventBridge user guide \"Schedule expressions for rules\"",
    }),
    stringRule({
        id: "events.target-id", types: ["aws:cloudwatch/eventTarget:EventTarget"], input: "targetId", max: 64, pattern: /^[.\-_A-Za-z0-9]+$/,
        rule: "1 to 64 of letters, digits, . - _", source: "EventBridge API reference, Target (API_Target.html), Id",
    }),
    stringRule({ id: "cloudwatch.alarm-name", types: [ALARM], input: "name", required: true, max: 255, rule: "1 to 255 characters", source: `${PUT_ALARM}, AlarmName` }),
    stringRule({ id: "cloudwatch.alarm-description", types: [ALARM], input: "alarmDescription", min: 0, max: 1024, rule: "at most 1024 characters", source: `${PUT_ALARM}, AlarmDescription` }),
    enumRule({
        id: "cloudwatch.alarm-comparison", types: [ALARM], input: "comparisonOperator",
        allowed: ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"],
        source: `${PUT_ALARM}, ComparisonOperator`,
    }),
    enumRule({ id: "cloudwatch.alarm-missing-data", types: [ALARM], input: "treatMissingData", allowed: ["breaching", "notBreaching", "ignore", "missing"], source: `${PUT_ALARM}, TreatMissingData` }),
    rangeRule({ id: "cloudwatch.alarm-evaluation-periods", types: [ALARM], input: "evaluationPeriods", min: 1, max: 100000, source: `${PUT_ALARM}, EvaluationPeriods` }),
    {
        id: "cloudwatch.alarm-datapoints", types: [ALARM], input: "datapointsToAlarm",
        rule: "datapointsToAlarm is at most evaluationPeriods", source: `${PUT_ALARM}, DatapointsToAlarm`,
        check(inputs) {
            const d = inputs.datapointsToAlarm;
            return typeof d === "number" && typeof inputs.evaluationPeriods === "number" && d > inputs.evaluationPeriods ? [{ input: "datapointsToAlarm", value: d }] : [];
        },
    },
    {
        id: "cloudwatch.alarm-metric", types: [ALARM], input: "metricName/metricQueries",
        rule: "either one metric (metricName, namespace, statistic, period a multiple of 60) or metricQueries with exactly one returnData true, not both",
        source: `${PUT_ALARM}, MetricName and Metrics (\"you must specify either MetricName or a Metrics array\"); MetricDataQuery, ReturnData`,
        check(inputs) {
            const queries = Array.isArray(inputs.metricQueries) ? inputs.metricQueries as Inputs[] : undefined;
            if (queries && inputs.metricName !== undefined) return [{ input: "metricName", value: inputs.metricName, detail: "set together with metricQueries" }];
            if (queries) {
                const returned = queries.filter((q) => q.returnData === true).length;
                const badPeriod = queries.find((q) => q.metric && Number((q.metric as Inputs).period) % 60 !== 0);
                if (returned !== 1) return [{ input: "metricQueries", value: `${returned} queries with returnData true` }];
                return badPeriod ? [{ input: "metricQueries", value: (badPeriod.metric as Inputs).period, detail: "period not a multiple of 60" }] : [];
            }
            if (typeof inputs.metricName !== "string") return [{ input: "metricName", value: inputs.metricName, detail: "neither metricName nor metricQueries" }];
            return Number(inputs.period) % 60 === 0 && Number(inputs.period) > 0 ? [] : [{ input: "period", value: inputs.period }];
        },
    },
    stringRule({
        id: "cloudwatch.dashboard-name", types: [DASHBOARD], input: "dashboardName", required: true, max: 255, pattern: /^[A-Za-z0-9_-]+$/,
        rule: "up to 255 of letters, digits, - and _", source: "CloudWatch API reference, PutDashboard (API_PutDashboard.html), DashboardName",
    }),
    {
        id: "cloudwatch.dashboard-body", types: [DASHBOARD], input: "dashboardBody",
        rule: "a JSON object with a widgets array", source: "CloudWatch API reference, \"Dashboard Body Structure and Syntax\" (CloudWatch-Dashboard-Body-Structure.html)",
        check(inputs) {
            try {
                const body = JSON.parse(String(inputs.dashboardBody)) as { widgets?: unknown };
                return Array.isArray(body.widgets) ? [] : [{ input: "dashboardBody", value: "no widgets array" }];
            } catch (e) {
                return [{ input: "dashboardBody", value: (e as Error).message }];
            }
        },
    },
];
