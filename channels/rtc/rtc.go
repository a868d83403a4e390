// Package rtc holds the WebRTC set-up that the call channels share: ICE
// servers from configuration, the loopback-only ICE of tests and
// single-machine demos, and trickle-ICE fragments (RFC 8840). It imports
// pion and the root; dialog never imports it.
package rtc

import (
	"net"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/signoff/signoff"
)

var loopbackIP = net.IPv4(127, 0, 0, 1)

// LoopbackOnly makes ICE gather and accept only 127.0.0.1 over UDP, with
// mDNS off: for tests and single-machine demos (SIGNOFF_ICE_LOOPBACK).
func LoopbackOnly(se *webrtc.SettingEngine) {
	only := func(ip net.IP) bool { return ip.Equal(loopbackIP) }
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIPFilter(only)
	se.SetRemoteIPFilter(only)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
}

// ICEServers parses STUN and TURN URLs: "stun:host:port",
// "turn:host:port?transport=udp", with optional credentials as
// "turn:user:password@host:port". Errors are signoff.ErrInvalid and never
// show a password.
func ICEServers(urls []string) ([]webrtc.ICEServer, error) {
	var out []webrtc.ICEServer
	for _, u := range urls {
		u = strings.TrimSpace(u)
		if u == "" {
			continue
		}
		scheme, rest, ok := strings.Cut(u, ":")
		switch {
		case !ok:
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_ice_server", "ICE server %q: want stun:, stuns:, turn: or turns:", redactICE(u))
		case scheme == "stun" || scheme == "stuns":
			out = append(out, webrtc.ICEServer{URLs: []string{u}})
		case scheme == "turn" || scheme == "turns":
			s := webrtc.ICEServer{URLs: []string{u}}
			if cred, host, ok := strings.Cut(rest, "@"); ok {
				user, pass, _ := strings.Cut(cred, ":")
				s = webrtc.ICEServer{URLs: []string{scheme + ":" + host}, Username: user, Credential: pass}
			}
			out = append(out, s)
		default:
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_ice_server", "ICE server %q: want stun:, stuns:, turn: or turns:", redactICE(u))
		}
	}
	return out, nil
}

// redactICE hides the credentials of a TURN URL.
func redactICE(u string) string {
	if i := strings.LastIndex(u, "@"); i >= 0 {
		if j := strings.Index(u, ":"); j >= 0 && j < i {
			return u[:j+1] + "***@" + u[i+1:]
		}
		return "***@" + u[i+1:]
	}
	return u
}

// ParseSDPFrag returns the candidates of a trickle-ICE fragment (the body
// of a WHIP PATCH), each with the mid of the media section it follows.
// Errors are signoff.ErrInvalid.
func ParseSDPFrag(frag string) ([]webrtc.ICECandidateInit, error) {
	var out []webrtc.ICECandidateInit
	var mid *string
	for line := range strings.Lines(frag) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
		case strings.HasPrefix(line, "a=mid:"):
			m := strings.TrimPrefix(line, "a=mid:")
			mid = &m
		case strings.HasPrefix(line, "a=candidate:"):
			cand := strings.TrimPrefix(line, "a=")
			if len(strings.Fields(cand)) < 8 {
				return nil, signoff.Errorf(signoff.ErrInvalid, "bad_candidate", "an ICE candidate line is malformed")
			}
			var zero uint16
			out = append(out, webrtc.ICECandidateInit{Candidate: cand, SDPMid: mid, SDPMLineIndex: &zero})
		case len(line) < 2 || line[1] != '=':
			return nil, signoff.Errorf(signoff.ErrInvalid, "bad_sdpfrag", "the body is not an SDP fragment")
		}
	}
	return out, nil
}
