// A development server on a free loopback port that can stop listening and listen again on the same
// port, so a test can take a stand-in "down" (connections refused) and bring it back where clients expect it.
import type * as http from "http";
import type { AddressInfo } from "net";

export interface Loopback {
    port: number;
    /** Closes the listener and every open connection: new connections are refused. */
    stop(): Promise<void>;
    /** Listens again on the same port. */
    resume(): Promise<void>;
}

export async function listenOnLoopback(server: http.Server): Promise<Loopback> {
    const listen = (port: number): Promise<number> => new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
            server.off("error", reject);
            resolve((server.address() as AddressInfo).port);
        });
    });
    const port = await listen(0);
    return {
        port,
        stop: () => new Promise((resolve) => {
            if (!server.listening) return resolve();
            server.close(() => resolve());
            server.closeAllConnections();
        }),
        resume: async () => {
            await listen(port);
        },
    };
}
