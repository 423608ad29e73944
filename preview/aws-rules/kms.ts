// KMS's creation rules for the key the program creates (the authorizer pair's secrets key). Sources:
// the KMS API reference (docs.aws.amazon.com/kms/latest/APIReference/): CreateKey (Description,
// KeySpec, KeyUsage, Policy), EnableKeyRotation (which keys rotate, RotationPeriodInDays),
// ScheduleKeyDeletion (PendingWindowInDays); and terraform-provider-aws internal/service/kms/key.go.
import { AwsRule, eachRule, rangeRule, stringRule } from "./rule";

const KEY = "aws:kms/key:Key";
const TF_KEY = "terraform-provider-aws internal/service/kms/key.go";

/** The key usages each kind of key spec takes (CreateKey, KeyUsage). */
function usagesFor(spec: string): readonly string[] {
    if (spec === "SYMMETRIC_DEFAULT") return ["ENCRYPT_DECRYPT"];
    if (spec.startsWith("HMAC_")) return ["GENERATE_VERIFY_MAC"];
    if (spec.startsWith("RSA_")) return ["ENCRYPT_DECRYPT", "SIGN_VERIFY"];
    if (spec === "SM2") return ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"];
    if (spec === "ECC_SECG_P256K1" || spec.startsWith("ML_DSA_") || spec === "ECC_NIST_EDWARDS25519") return ["SIGN_VERIFY"];
    if (spec.startsWith("ECC_")) return ["SIGN_VERIFY", "KEY_AGREEMENT"];
    return [];
}

export const KMS_RULES: AwsRule[] = [
    rangeRule({
        id: "kms.deletion-window", types: [KEY], input: "deletionWindowInDays", min: 7, max: 30,
        source: `KMS API reference, ScheduleKeyDeletion, PendingWindowInDays (7 to 30 days); ${TF_KEY} (IntBetween(7, 30))`,
    }),
    stringRule({
        id: "kms.description", types: [KEY], input: "description", min: 0, max: 8192,
        rule: "at most 8192 characters", source: `KMS API reference, CreateKey, Description; ${TF_KEY} (StringLenBetween(0, 8192))`,
    }),
    eachRule({
        id: "kms.key-usage", types: [KEY], input: "keyUsage",
        rule: "a usage the key spec takes: ENCRYPT_DECRYPT for SYMMETRIC_DEFAULT (the default), GENERATE_VERIFY_MAC for HMAC keys, " +
            "ENCRYPT_DECRYPT or SIGN_VERIFY for RSA, SIGN_VERIFY or KEY_AGREEMENT for elliptic curves",
        source: `KMS API reference, CreateKey, KeyUsage and KeySpec; ${TF_KEY} (key_usage, customer_master_key_spec: enums)`,
        accepts: (usage, inputs) => {
            const spec = String(inputs.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT");
            const allowed = usagesFor(spec);
            return allowed.includes(String(usage)) ? undefined : allowed.length === 0 ? `no key spec ${spec}` : `${spec} takes ${allowed.join(" or ")}`;
        },
    }),
    eachRule({
        id: "kms.key-rotation", types: [KEY], input: "enableKeyRotation",
        rule: "automatic rotation is supported only on symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT) whose key material KMS made (no custom key store)",
        source: "KMS API reference, EnableKeyRotation (\"Automatic key rotation is supported only on symmetric encryption KMS keys. You cannot enable automatic rotation of asymmetric KMS keys, HMAC KMS keys, ... or KMS keys in a custom key store\")",
        accepts: (enabled, inputs) => {
            if (enabled !== true) return undefined;
            const spec = String(inputs.customerMasterKeySpec ?? "SYMMETRIC_DEFAULT");
            if (spec !== "SYMMETRIC_DEFAULT") return `a ${spec} key`;
            return inputs.customKeyStoreId ? "a key in a custom key store" : undefined;
        },
    }),
    eachRule({
        id: "kms.rotation-period", types: [KEY], input: "rotationPeriodInDays",
        rule: "90 to 2560 days, and only with enableKeyRotation",
        source: `KMS API reference, EnableKeyRotation, RotationPeriodInDays (90-2560); ${TF_KEY} (IntBetween(90, 2560), RequiredWith enable_key_rotation)`,
        accepts: (days, inputs) => {
            if (typeof days !== "number" || !Number.isInteger(days) || days < 90 || days > 2560) return "";
            return inputs.enableKeyRotation === true ? undefined : "enableKeyRotation is not true";
        },
    }),
    eachRule({
        id: "kms.key-policy", types: [KEY], input: "policy",
        rule: "a JSON key policy of at most 32 kilobytes",
        source: "KMS API reference, CreateKey, Policy (\"The key policy size quota is 32 kilobytes (32768 bytes)\"); " + `${TF_KEY} (policy: an IAM policy document)`,
        accepts: (policy) => {
            if (typeof policy !== "string") return "not a JSON string";
            if (Buffer.byteLength(policy) > 32768) return `${Buffer.byteLength(policy)} bytes`;
            try {
                const parsed: unknown = JSON.parse(policy);
                return typeof parsed === "object" && parsed !== null && "Statement" in parsed ? undefined : "no Statement";
            } catch {
                return "not JSON";
            }
        },
    }),
];
