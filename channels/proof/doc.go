// Package proof is the HTTP side of delivery evidence: the courier's proof
// upload (POST /v1/deliveries/{id}/proof), the photos, signed receipts
// (GET /v1/deliveries/{id}/receipt and receipt.html), the receipt keys
// (GET /v1/receipts/keys) and the erasure of a delivery's personal data
// (DELETE /v1/deliveries/{id}/personal-data).
//
// It drives dialog (AddProof) and reads the evidence through a small Store
// interface that dialog/redisstore satisfies; staff are recognised through
// StaffAuth, which the staff console provides.
package proof
