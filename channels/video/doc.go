// Package video runs the live video calls of an escalation: a small
// forwarding unit on pion/webrtc with one room per delivery, where the
// recipient and the courier each publish VP8 video and Opus audio and
// receive the other's, and staff watch without sending. Every published
// track is recorded (IVF, Ogg) and filed by hash in the delivery's
// evidence log. A room lives on one node; the node is recorded through
// Placement, and other nodes redirect joins to it.
//
// It drives the dialog engine through the small interfaces it declares
// and must not be imported by dialog or the root.
package video
