// SNS and SQS creation rules (SNS API reference, CreateTopic and Subscribe; SQS API reference,
// CreateQueue and its attributes).
import { AwsRule, enumRule, rangeRule, stringRule } from "./rule";

const TOPIC = "aws:sns/topic:Topic";
const QUEUE = "aws:sqs/queue:Queue";

export const MESSAGING_RULES: AwsRule[] = [
    stringRule({
        id: "sns.topic-name", types: [TOPIC], input: "name", required: true, max: 256, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
        rule: "up to 256 upper- and lower-case letters, digits, underscores and hyphens (.fifo for a FIFO topic)",
        source: "SNS API reference, CreateTopic (API_CreateTopic.html), Name",
    }),
    enumRule({
        id: "sns.subscription-protocol", types: ["aws:sns/topicSubscription:TopicSubscription"], input: "protocol",
        allowed: ["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"],
        source: "SNS API reference, Subscribe (API_Subscribe.html), Protocol",
    }),
    stringRule({
        id: "sqs.queue-name", types: [QUEUE], input: "name", required: true, max: 80, pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/,
        rule: "up to 80 alphanumeric characters, hyphens and underscores (a FIFO queue ends in .fifo)",
        source: "SQS API reference, CreateQueue (API_CreateQueue.html), QueueName",
    }),
    rangeRule({ id: "sqs.message-retention", types: [QUEUE], input: "messageRetentionSeconds", min: 60, max: 1209600, source: "SQS API reference, CreateQueue, MessageRetentionPeriod (60 to 1,209,600 seconds)" }),
];
