// The CrossGuard pack: `pulumi preview --policy-pack policy` (or `pulumi up`). The rules live
// in policy/rules/ and are listed in policy/policies.ts; offline (no CLI, no cloud),
// policy/offline.ts runs the same list over a stack's offline preview.
import { PolicyPack } from "@pulumi/policy";
import { POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, { enforcementLevel: "mandatory", policies });
