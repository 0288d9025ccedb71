"""The built-in ``webhook`` connector: posts pushed by any tool to
``POST /api/v1/listening/webhooks/{source_id}``, signed with HMAC-SHA256. See README.md."""
