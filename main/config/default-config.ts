/** The gatehouse.yaml written on first run: every key commented, nothing surprising switched on. */
export const DEFAULT_CONFIG_YAML = `# Gatehouse configuration. Edit freely: Gatehouse keeps your comments when it rewrites this file.
# Reference: the README's "Configuration" section.

gateway:
  port: 5757              # gatehouse serve listens on http://127.0.0.1:PORT (0 = any free port)
  maxBodySize: 32MiB      # larger request bodies are refused with 413
  maxSessions: 256        # concurrent client sessions across all servers
  idleTimeout: 30m        # sessions with no traffic for this long are closed (their stdio servers stopped)

# Upstream MCP servers, by name. Clients reach each at http://127.0.0.1:PORT/mcp/NAME,
# or through \`gatehouse connect NAME\` for clients that only speak stdio.
servers: {}
#  files:
#    command: npx
#    args: ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/project"]
#    env: {}             # added to the environment the server starts with
#    cwd: /home/me       # working directory of the server process
#  tracker:
#    url: https://mcp.example.com/mcp   # Streamable HTTP; falls back to legacy SSE
#    headers: { X-Team: platform }
#    transport: auto                    # auto | streamable-http | sse

policy:
  default: allow          # allow | approve | deny, for calls no rule matches
  rules: []               # first match wins

approvals:
  timeout: 2m             # an undecided approval is denied after this long

masking:
  detectors: [secrets]    # secrets, email, credit-card, ip
  custom: []              # e.g. [{ name: ticket, pattern: "TCK-[0-9]{6}" }]
  inline: false           # true: also mask what the client receives

recording:
  exclude: []             # not recorded: e.g. [{ server: memory }] or [{ server: files, tool: "read_*" }]
  segmentSize: 16MiB      # audit log segments roll at this size
  # retention: { maxAge: 90d, maxSize: 2GiB }   # prune the oldest full segments (a signed anchor keeps verify green)
`;
