// A real SMTP server for Plein's tests, on a free loopback port. Prints `{"port": N}` once
// listening, then one JSON line per message received: its envelope and its raw source.
// Recipients listed in SMTP_REJECT (comma-separated) are refused with a permanent 550.
import { SMTPServer } from "smtp-server";

const rejected = new Set(
  (process.env.SMTP_REJECT ?? "")
    .split(",")
    .map((address) => address.trim().toLowerCase())
    .filter(Boolean),
);

const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  logger: false,
  onRcptTo(address, _session, callback) {
    if (rejected.has(address.address.toLowerCase())) {
      const error = new Error("No such mailbox here");
      error.responseCode = 550;
      return callback(error);
    }
    return callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on("data", (chunk) => chunks.push(chunk));
    stream.on("end", () => {
      process.stdout.write(
        `${JSON.stringify({
          from: session.envelope.mailFrom && session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        })}\n`,
      );
      callback();
    });
  },
});

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.server.address().port })}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
