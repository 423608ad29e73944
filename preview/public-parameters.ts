// AWS's public SSM parameters the program reads (data sources), answered in the offline preview as AWS
// would answer them: the latest AWS Parameters and Secrets Lambda Extension layer of each region and
// architecture. Layer accounts and versions from the AWS Systems Manager user guide, "Using Parameter
// Store parameters in AWS Lambda functions" (ARN tables last updated July 28, 2026; the accounts match
// aws-cdk's region-info fact tables), which also names the parameters: "The latest Lambda extension ARN
// versions are stored as public parameters". The versions move whenever AWS publishes one: here they only
// make the preview's ARNs look as a real run's would; nothing depends on their number.

/** Region: [partition, the layer's account, latest x86_64 version, latest arm64 version (none listed: null)]. */
const EXTENSION_LAYERS: Record<string, [string, string, number, number | null]> = {
    "us-east-1": ["aws", "177933569100", 99, 99], "us-east-2": ["aws", "590474943231", 109, 109],
    "us-west-1": ["aws", "997803712105", 96, 93], "us-west-2": ["aws", "345057560386", 99, 99],
    "af-south-1": ["aws", "317013901791", 100, 97], "ap-east-1": ["aws", "768336418462", 97, 94],
    "ap-east-2": ["aws", "890742577149", 69, 65], "ap-south-1": ["aws", "176022468876", 95, 95],
    "ap-south-2": ["aws", "070087711984", 91, 83], "ap-northeast-1": ["aws", "133490724326", 100, 100],
    "ap-northeast-2": ["aws", "738900069198", 99, 96], "ap-northeast-3": ["aws", "576959938190", 94, 91],
    "ap-southeast-1": ["aws", "044395824272", 101, 101], "ap-southeast-2": ["aws", "665172237481", 105, 105],
    "ap-southeast-3": ["aws", "490737872127", 94, 91], "ap-southeast-4": ["aws", "090732460067", 84, 83],
    "ap-southeast-5": ["aws", "381492012281", 83, 83], "ap-southeast-6": ["aws", "995508174458", 78, 76],
    "ap-southeast-7": ["aws", "941377119484", 84, 83], "ca-central-1": ["aws", "200266452380", 107, 104],
    "ca-west-1": ["aws", "243964427225", 71, 70], "eu-central-1": ["aws", "187925254637", 101, 101],
    "eu-central-2": ["aws", "772501565639", 78, 70], "eu-north-1": ["aws", "427196147048", 95, 92],
    "eu-south-1": ["aws", "325218067255", 95, 92], "eu-south-2": ["aws", "524103009944", 90, 82],
    "eu-west-1": ["aws", "015030872274", 101, 101], "eu-west-2": ["aws", "133256977650", 99, 99],
    "eu-west-3": ["aws", "780235371811", 98, 95], "il-central-1": ["aws", "148806536434", 71, 70],
    "me-central-1": ["aws", "858974508948", 60, 49], "me-south-1": ["aws", "832021897121", 58, 55],
    "mx-central-1": ["aws", "241533131596", 68, 67], "sa-east-1": ["aws", "933737806257", 103, 100],
    "cn-north-1": ["aws-cn", "287114880934", 100, 89], "cn-northwest-1": ["aws-cn", "287310001119", 94, 83],
    "us-gov-east-1": ["aws-us-gov", "129776340158", 95, 84], "us-gov-west-1": ["aws-us-gov", "127562683043", 98, 87],
    "eusc-de-east-1": ["aws-eusc", "041683371183", 5, null],
};

const EXTENSION_PARAMETER = /^\/aws\/service\/aws-parameters-and-secrets-lambda-extension\/(x86|arm64)\/latest$/;

/**
 * The value AWS holds in public parameter `name` in `region`, or undefined where it holds none
 * (GetParameter then answers ParameterNotFound).
 */
export function publicParameter(name: string, region: string): string | undefined {
    const architecture = EXTENSION_PARAMETER.exec(name)?.[1];
    const layer = EXTENSION_LAYERS[region];
    if (architecture === undefined || layer === undefined) return undefined;
    const [partition, account, x86, arm64] = layer;
    const base = `arn:${partition}:lambda:${region}:${account}:layer:AWS-Parameters-and-Secrets-Lambda-Extension`;
    if (architecture === "x86") return `${base}:${x86}`;
    return arm64 === null ? undefined : `${base}-Arm64:${arm64}`;
}
