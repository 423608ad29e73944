// API Gateway's stage throttling: a token bucket holding `burst` requests, refilled at
// `rate` per second. A request that finds the bucket empty gets 429.

export class TokenBucket {
    private tokens: number;
    private last: number;

    constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = () => performance.now()) {
        this.tokens = burst;
        this.last = now();
    }

    take(): boolean {
        const now = this.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
        this.last = now;
        if (this.tokens < 1) return false;
        this.tokens -= 1;
        return true;
    }
}
