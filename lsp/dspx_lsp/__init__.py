"""dspx_lsp: the dspx language server (pygls), started by `dspxc lsp`."""
