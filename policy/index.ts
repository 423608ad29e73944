// The CrossGuard pack: `pulumi preview --policy-pack policy`. Offline, scripts/policy-check.ts
// runs the same policies over the offline preview of every stack.
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { enforcementLevel: "mandatory", policies });
