// The "Node.js Verification Example" of seed 004_15ef45422656bdba.txt (NetRecon's webhook docs),
// copied verbatim (line breaks and indentation as the document has them); only the last line,
// the export, is added. The end-to-end tests load it with require() so that not one character of
// the receiver's check differs from what a NetRecon customer pastes.
const crypto = require('crypto');
function verifyWebhook(payload, signature, secret) {
const expected = 'sha256=' + crypto
.createHmac('sha256', secret)
.update(payload)
.digest('hex');
return crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature));
}
module.exports = { verifyWebhook };
