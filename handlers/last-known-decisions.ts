// The last decision this container learned for each credential, for the `resilient` and `allow` failure
// modes when neither 3scale nor Redis can answer (issue 17 item 7): APIcast's resilient caching keeps
// them at the gateway for the same reason. Keyed by the credential's sha256, as Redis is, never by the
// credential; bounded (least recently used first out), and each decision expires when Redis would drop it.
//
// A Map keeps insertion order, so moving an entry to the end on use and dropping the first when full is
// an LRU in a few lines; a cache library would add a dependency and load time to every cold start.

export type KnownDecision =
    | { allowed: true; plan: string; uid: string; until: number }
    | { allowed: false; reason: string; until: number };

/** Decisions one container keeps; about 200 bytes each. */
export const MAX_KNOWN_DECISIONS = 10_000;

export interface LastKnownDecisions {
    /** The decision for this credential hash, unless expired. */
    recall(hash: string): KnownDecision | undefined;
    remember(hash: string, decision: KnownDecision): void;
    /**
     * An allowed decision seen again (a cache hit), good at least until `until`. Cheap when it is the one
     * already known, as on the hot path: the entry moves to the end of the order, nothing is allocated.
     */
    confirm(hash: string, plan: string, uid: string, until: number): void;
    readonly size: number;
}

export function createLastKnownDecisions(now: () => number, capacity = MAX_KNOWN_DECISIONS): LastKnownDecisions {
    const decisions = new Map<string, KnownDecision>();
    const put = (hash: string, decision: KnownDecision): void => {
        decisions.delete(hash);
        if (decisions.size >= capacity) decisions.delete(decisions.keys().next().value as string);
        decisions.set(hash, decision);
    };
    return {
        recall(hash) {
            const d = decisions.get(hash);
            if (d === undefined) return undefined;
            if (d.until <= now()) {
                decisions.delete(hash);
                return undefined;
            }
            return d;
        },
        remember: put,
        confirm(hash, plan, uid, until) {
            const d = decisions.get(hash);
            if (d !== undefined && d.allowed && d.plan === plan && d.uid === uid) {
                if (until > d.until) d.until = until;
                decisions.delete(hash);
                decisions.set(hash, d);
                return;
            }
            put(hash, { allowed: true, plan, uid, until });
        },
        get size() {
            return decisions.size;
        },
    };
}
