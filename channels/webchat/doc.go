// Package webchat is the recipient's chat API over HTTP: send a reply, read
// the session and its transcript, and follow new messages as Server-Sent
// Events. It drives package dialog and never decides anything itself.
package webchat
