// Replies a 3scale on the far side of a hostile network could send (issue 17, item 2), each of which
// must be a 3scale failure, never a decision. Shared by the reply tests and the hostile-input counts.
import type { ScriptedReply } from "./hostile-http";

export const XML = '<?xml version="1.0" encoding="UTF-8"?>';
export const KEY = "hostile-key-0123456789abcdef";
export const status = (inner: string) => `${XML}<status><authorized>true</authorized>${inner}</status>`;
export const report = (metric = "hits", extra = "") => `<usage_report metric="${metric}" period="day"${extra}><period_start>2026-01-01 00:00:00 +0000</period_start>` +
    "<period_end>2026-01-02 00:00:00 +0000</period_end><max_value>100</max_value><current_value>1</current_value></usage_report>";

/** Replies that must each be a 3scale failure, never a decision. */
export const HOSTILE_REPLIES: [string, ScriptedReply][] = [
    ["a DOCTYPE whose entity is the plan name", { body: `${XML}<!DOCTYPE status [<!ENTITY p "Unlimited">]><status><authorized>true</authorized><plan>&p;</plan></status>` }],
    ["a DOCTYPE, its entity unused", { body: `${XML}<!DOCTYPE status [<!ENTITY p "x">]><status><authorized>true</authorized><plan>Basic</plan></status>` }],
    ["an external entity", { body: `${XML}<!DOCTYPE status [<!ENTITY p SYSTEM "file:///etc/passwd">]><status><authorized>true</authorized><plan>&p;</plan></status>` }],
    ["a parameter entity", { body: `${XML}<!DOCTYPE status [<!ENTITY % p "x"> %p;]><status><authorized>true</authorized><plan>Basic</plan></status>` }],
    ["an entity no DTD declares", { body: status("<plan>&p;</plan>") }],
    ["an HTML entity", { body: status("<plan>Un&nbsp;limited</plan>") }],
    ["a DOCTYPE after the root", { body: `${status("<plan>Basic</plan>")}<!DOCTYPE x>` }],
    ["a 10 MB reply with its Content-Length", { body: status(`<plan>Basic</plan><x>${"a".repeat(10 * 1024 * 1024)}</x>`) }],
    ["a 200 MB reply streamed without a length", { stream: { prefix: `${XML}<status><authorized>true</authorized><plan>`, fill: "Unlimited", streamBytes: 200 * 1024 * 1024 } }],
    ["a 64 KiB + 1 reply", { body: status(`<plan>Basic</plan><x>${"a".repeat(65_536)}</x>`) }],
    ["a plan name of 10 KB", { body: status(`<plan>${"U".repeat(10_000)}</plan>`) }],
    ["a plan name with a newline", { body: status("<plan>Basic&#10;Unlimited</plan>") }],
    ["a plan name with a control character", { body: status("<plan>Basic\u0001</plan>") }],
    ["an app id of 10 KB", { body: status(`<plan>Basic</plan><app_keys app="${"7".repeat(10_000)}" svc="1"></app_keys>`) }],
    ["a metric name of 10 KB", { body: status(`<plan>Basic</plan><usage_reports>${report("h".repeat(10_000))}</usage_reports>`) }],
    ["300 usage reports", { body: status(`<plan>Basic</plan><usage_reports>${report().repeat(300)}</usage_reports>`) }],
    ["2,000 attributes on one element", { body: `${XML}<status ${Array.from({ length: 2000 }, (_, i) => `a${i}="1"`).join(" ")}><authorized>true</authorized><plan>Basic</plan></status>` }],
    ["a max_value that is not a whole number", { body: status(`<plan>Basic</plan><usage_reports>${report().replace("<max_value>100", "<max_value>1e400")}</usage_reports>`) }],
    ["a 409 reason of 10 KB", { status: 409, body: `${XML}<status><authorized>false</authorized><reason>${"r".repeat(10_000)}</reason><plan>Basic</plan></status>` }],
];
