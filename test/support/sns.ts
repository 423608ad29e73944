// A local endpoint for SNS's Query API (Action=Publish only), so the real SNS client of the
// authorizer can be exercised without AWS: point AWS_ENDPOINT_URL_SNS at `url`.
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

export interface PublishedMessage {
    messageId: string;
    topicArn: string;
    message: string;
}

export interface LocalSns {
    url: string;
    published: PublishedMessage[];
    close(): Promise<void>;
}

export async function startLocalSns(): Promise<LocalSns> {
    const published: PublishedMessage[] = [];
    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const params = new URLSearchParams(Buffer.concat(chunks).toString());
            res.setHeader("content-type", "text/xml");
            if (params.get("Action") !== "Publish") {
                res.writeHead(400);
                res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only Publish</Message></Error><RequestId>x</RequestId></ErrorResponse>`);
                return;
            }
            const messageId = randomUUID();
            published.push({ messageId, topicArn: params.get("TopicArn") ?? "", message: params.get("Message") ?? "" });
            res.writeHead(200);
            res.end(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult>` +
                `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        published,
        close: () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
}
