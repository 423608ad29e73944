// How the development 3scale reads a transactions.xml POST, as apisonator's listener does before it
// answers 202 (lib/3scale/backend/listener.rb `post '/transactions.xml'`, rack/exception_catcher.rb,
// errors.rb). Every refusal here is synchronous and covers the whole POST; each is an apisonator
// `BadRequest` (400, "should not be repeated without modification") or `NotValidData` (422), except
// our own credentials (403/422), which the caller checks between the content type and the encoding.
// The order is apisonator's: Rack parses the form first (a broken %-encoding is a 400 bad_request),
// then the route checks the content type, the service credentials, the encoding of every value,
// and the shape of `transactions`.

/** A form field as Rack reads it: a key and its value, null for `key` with no `=`. */
export type FormField = [key: string, value: string | null];

export interface ParsedForm {
    fields: FormField[];
    /** A key or value whose bytes are not UTF-8 (report_test.rb L947-1012). */
    notUtf8: boolean;
}

/** An apisonator exception a listener answers with <error code=..>. */
export class ListenerRefusal extends Error {
    constructor(readonly status: number, readonly code: string, message: string) {
        super(message);
    }
}

/** The listener's refusals of a transactions.xml POST that no retry of the same request can change. */
export const UNREADABLE_REPLIES = {
    bad_request: [400, "Invalid query parameters: invalid %-encoding"],
    content_type_invalid: [400, "invalid Content-Type: "],
    transactions_is_blank: [400, "transactions parameter is blank"],
    transactions_format_invalid: [400, "transactions format is invalid"],
    transactions_has_nil_transaction: [400, "transactions has a nil transaction"],
    end_users_no_longer_supported: [400, "End-users are no longer supported, do not specify the user_id parameter"],
    not_valid_data: [422, "all data must be valid UTF8"],
} as const;

export type UnreadableCode = keyof typeof UNREADABLE_REPLIES;

export function refusal(code: UnreadableCode, detail = ""): ListenerRefusal {
    const [status, message] = UNREADABLE_REPLIES[code];
    return new ListenerRefusal(status, code, `${message}${detail}`);
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** %XX and `+` decoded to bytes; undefined for a `%` not followed by two hex digits (Rack's "invalid %-encoding"). */
function unescape(raw: string): Buffer | undefined {
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
        const c = raw[i];
        if (c === "%") {
            const hex = raw.slice(i + 1, i + 3);
            if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
            bytes.push(parseInt(hex, 16));
            i += 2;
        } else if (c === "+") {
            bytes.push(0x20);
        } else {
            bytes.push(...Buffer.from(c, "utf8"));
        }
    }
    return Buffer.from(bytes);
}

/**
 * Reads an application/x-www-form-urlencoded body as Rack does; throws the 400 bad_request that
 * rack/exception_catcher.rb makes of a broken %-encoding (listener_test.rb L40-54).
 */
export function parseForm(body: string): ParsedForm {
    const fields: FormField[] = [];
    let notUtf8 = false;
    const text = (raw: string): string => {
        const bytes = unescape(raw);
        if (!bytes) throw refusal("bad_request");
        try {
            return UTF8.decode(bytes);
        } catch {
            notUtf8 = true;
            return bytes.toString("latin1");
        }
    };
    for (const part of body.split("&")) {
        if (part === "") continue;
        const eq = part.indexOf("=");
        fields.push(eq < 0 ? [text(part), null] : [text(part.slice(0, eq)), text(part.slice(eq + 1))]);
    }
    return { fields, notUtf8 };
}

/** One transaction of a POST, as the report job reads it. */
export interface ReportedTransaction {
    appId: string | null;
    userKey: string | null;
    usage: [string, string][];
    timestamp: string | null;
}

/**
 * `transactions` as listener.rb's check_transactions_validity takes it: blank (400
 * transactions_is_blank), not a hash (400 transactions_format_invalid), a nil transaction (400
 * transactions_has_nil_transaction), a user_id (400 end_users_no_longer_supported).
 */
export function readTransactions(fields: FormField[]): ReportedTransaction[] {
    const byIndex = new Map<string, ReportedTransaction | null>();
    let notHash = false;
    let userId = false;
    for (const [key, value] of fields) {
        if (key === "transactions") {
            notHash ||= value !== null && value !== "";
            continue;
        }
        const m = /^transactions\[([^\]]+)\](?:\[([^\]]+)\](?:\[([^\]]+)\])?)?$/.exec(key);
        if (!m) continue;
        if (m[2] === undefined) {
            // `transactions[1]` with no value: Rack makes it nil; with a value, a string (no hash).
            if (value === null) byIndex.set(m[1], byIndex.get(m[1]) ?? null);
            else notHash = true;
            continue;
        }
        const t = byIndex.get(m[1]) ?? { appId: null, userKey: null, usage: [], timestamp: null };
        byIndex.set(m[1], t);
        const v = value ?? "";
        if (m[2] === "app_id") t.appId = v.trim() || null;
        else if (m[2] === "user_key") t.userKey = v.trim() || null;
        else if (m[2] === "timestamp") t.timestamp = v;
        else if (m[2] === "usage" && m[3]) t.usage.push([m[3], v]);
        else if (m[2] === "user_id") userId = true;
    }
    if (byIndex.size === 0 && !notHash) throw refusal("transactions_is_blank");
    if (notHash) throw refusal("transactions_format_invalid");
    const transactions = [...byIndex.values()];
    if (transactions.some((t) => t === null)) throw refusal("transactions_has_nil_transaction");
    if (userId) throw refusal("end_users_no_longer_supported");
    return transactions as ReportedTransaction[];
}

/** listener.rb check_post_content_type!: empty, a form or multipart pass. */
export function checkContentType(contentType: string | undefined): void {
    const type = String(contentType ?? "").split(";")[0].trim();
    if (type !== "" && type !== "application/x-www-form-urlencoded" && type !== "multipart/form-data") throw refusal("content_type_invalid", type);
}
