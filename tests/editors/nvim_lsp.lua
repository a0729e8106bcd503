-- Drive the dspx language server from a real Neovim (0.7+, headless, no user config).
-- Inputs (environment): DSPX_FILE (a .dspx file to open), DSPX_SERVER (JSON list: the
-- server command), DSPX_HOVER_LINE / DSPX_HOVER_CHARACTER (0-based LSP position),
-- DSPX_OUT (where to write the JSON result: {diagnostics = ..., hover = ...}).
local file = vim.env.DSPX_FILE
local out = vim.env.DSPX_OUT
local got = { diagnostics = nil, hover = nil, error = nil }

local function finish()
  local handle = io.open(out, "w")
  handle:write(vim.fn.json_encode(got))
  handle:close()
  vim.cmd("qa!")
end

local client_id = vim.lsp.start_client({
  name = "dspx",
  cmd = vim.fn.json_decode(vim.env.DSPX_SERVER),
  root_dir = vim.fn.fnamemodify(file, ":p:h"),
  handlers = {
    ["textDocument/publishDiagnostics"] = function(_, result)
      if result.uri == vim.uri_from_fname(file) then
        got.diagnostics = result.diagnostics
      end
    end,
  },
})
if client_id == nil then
  got.error = "the server did not start"
  finish()
end

vim.cmd("edit " .. vim.fn.fnameescape(file))
vim.lsp.buf_attach_client(0, client_id)

if not vim.wait(30000, function() return got.diagnostics ~= nil end, 20) then
  got.error = "no diagnostics within 30 s"
  finish()
end

local client = vim.lsp.get_client_by_id(client_id)
local params = {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  position = { line = tonumber(vim.env.DSPX_HOVER_LINE), character = tonumber(vim.env.DSPX_HOVER_CHARACTER) },
}
local response = client.request_sync("textDocument/hover", params, 10000, 0)
if response == nil or response.err ~= nil then
  got.error = "hover failed: " .. vim.inspect(response)
else
  got.hover = response.result
end
client.stop()
finish()
