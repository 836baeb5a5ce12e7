/** The gatehouse.yaml written on first run: every key commented, nothing surprising switched on. */
export const DEFAULT_CONFIG_YAML = `# Gatehouse configuration. Edit freely: Gatehouse keeps your comments when it rewrites this file.
# Reference: the README's "Configure servers" and "Policy, masking and tool pinning" sections.

gateway:
  port: 5757              # gatehouse serve listens on http://127.0.0.1:PORT (0 = any free port)
  maxBodySize: 32MiB      # larger request bodies are refused with 413
  maxSessions: 256        # concurrent client sessions across all servers
  idleTimeout: 30m        # sessions with no traffic for this long are closed (their stdio servers stopped)
  requestTimeout: 5m      # a request the server has not answered, nor sent progress for, in this long is answered with an error
  sleepAfter: 1m          # a session quiet this long (nothing in flight, no open stream) has its stdio server stopped;
                          # its next request starts it again, replaying the client's handshake
  maxLiveServers: 32      # at most this many stdio server processes at once (the least recently used sleeps first)

# Upstream MCP servers, by name. Clients reach each at http://127.0.0.1:PORT/mcp/NAME,
# or through \`gatehouse connect NAME\` for clients that only speak stdio.
servers: {}
#  files:
#    command: npx
#    args: ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/project"]
#    env: {}             # added to the environment the server starts with
#    cwd: /home/me       # working directory of the server process
#    sleep: true         # false: never stopped while its client is quiet (a server whose state a replay cannot restore)
#  tracker:
#    url: https://mcp.example.com/mcp   # Streamable HTTP; falls back to legacy SSE
#    headers: { X-Team: platform }
#    transport: auto                    # auto | streamable-http | sse

policy:
  default: allow          # allow | approve | deny, for calls no rule matches
  on_tool_change: approve # a tool whose definition changed since it was first seen: allow | approve | deny
  rules:                  # first match wins. match on server, tool (names or globs), args (a regex per argument;
                          # dotted paths for nested ones, "*" for any), principal and groups; "hide: true" on a
                          # deny rule also hides the tool from tools/list
    - name: no-sql-ddl
      match: { args: { "*": "(?i)\\\\b(drop\\\\s+(table|database|schema|index|view)|alter\\\\s+(table|database|schema)|truncate)\\\\b" } }
      action: deny
      reason: Schema changes (DDL) are not allowed from agents
    - name: file-changes-need-approval
      match: { tool: [write_file, edit_file, move_file, create_directory, delete_file, remove_file] }
      action: approve
      reason: Writing, moving or deleting files needs a person's approval

approvals:
  timeout: 2m             # an undecided approval is denied after this long
  elicitation: false      # true: also ask in the MCP client itself, where it supports elicitation

masking:
  detectors: [secrets, email, credit-card]   # also: ip
                          # masked values become [MASKED:kind:hash] in the log (same value, same hash)
  custom: []              # e.g. [{ name: ticket, pattern: "TCK-[0-9]{6}" }]
  inline: false           # true: also mask what the client receives

recording:
  exclude: []             # not recorded: e.g. [{ server: memory }] or [{ server: files, tool: "read_*" }]
  segmentSize: 16MiB      # audit log segments roll at this size
  # retention: { maxAge: 90d, maxSize: 2GiB }   # prune the oldest full segments (a signed anchor keeps verify green)
`;
