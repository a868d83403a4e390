package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <stdio.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ckd_alloc.h>

// sp_quiet silences the libraries' logging, which goes to stderr by default
// and is global state.
static void sp_quiet(void) { err_set_logfp(NULL); }

static ps_decoder_t *sp_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, 1);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// sp_has_word reports whether word is in the decoder's dictionary.
static int sp_has_word(ps_decoder_t *ps, const char *word) {
	char *pron = ps_lookup_word(ps, word);
	if (pron == NULL) return 0;
	ckd_free(pron);
	return 1;
}

typedef struct {
	int32 score;   // path score of the best hypothesis
	int32 ascr;    // acoustic score along the best path, summed over words
	int32 prob;    // log posterior of the best hypothesis
	int   frames;  // frames processed
	int   nwords;  // words in the hypothesis, fillers included
	int   fillerframes; // frames spent in fillers (silence, noise)
} sp_stats;

// sp_decode runs one whole utterance through the active search and returns
// the hypothesis (owned by the decoder, valid until the next call) or NULL.
static const char *sp_decode(ps_decoder_t *ps, const int16 *pcm, size_t n, sp_stats *st) {
	st->score = 0; st->ascr = 0; st->prob = 0; st->frames = 0; st->nwords = 0; st->fillerframes = 0;
	ps_start_stream(ps);
	if (ps_start_utt(ps) < 0) return NULL;
	if (ps_process_raw(ps, pcm, n, FALSE, TRUE) < 0) { ps_end_utt(ps); return NULL; }
	if (ps_end_utt(ps) < 0) return NULL;
	st->frames = ps_get_n_frames(ps);
	const char *hyp = ps_get_hyp(ps, &st->score);
	if (hyp == NULL) return NULL;
	st->prob = ps_get_prob(ps);
	ps_seg_t *seg;
	for (seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
		int32 ascr, lscr, lback;
		int sf, ef;
		ps_seg_prob(seg, &ascr, &lscr, &lback);
		ps_seg_frames(seg, &sf, &ef);
		st->ascr += ascr;
		st->nwords++;
		const char *w = ps_seg_word(seg);
		if (w[0] == '<' || w[0] == '[' || (w[0] == '+' )) st->fillerframes += ef - sf + 1;
	}
	return hyp;
}

static int sp_segs(ps_decoder_t *ps, char *buf, int n) {
	ps_seg_t *seg;
	int off = 0;
	for (seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
		int32 ascr, lscr, lback;
		int sf, ef;
		int32 p = ps_seg_prob(seg, &ascr, &lscr, &lback);
		ps_seg_frames(seg, &sf, &ef);
		off += snprintf(buf + off, n - off, "%s[%d-%d a=%d l=%d] ", ps_seg_word(seg), sf, ef, ascr, lscr);
		if (off >= n) break;
	}
	return off;
}

static double sp_ln(ps_decoder_t *ps, int32 v) {
	return logmath_log_to_ln(ps_get_logmath(ps), v);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// decoder is one PocketSphinx decoder. It is not safe for concurrent use: the
// Recognizer's pool hands it to one utterance at a time.
type decoder struct {
	ps *C.ps_decoder_t
}

// stats are the scores of one decoded utterance, as natural logarithms.
type stats struct {
	hyp          string
	score        float64 // path score, ln
	ascr         float64 // acoustic score along the path, ln
	prob         float64 // log posterior, ln
	frames       int
	words        int
	fillerFrames int
}

func newDecoder(args []string) (*decoder, error) {
	quietOnce.Do(func() { C.sp_quiet() })
	argv := C.malloc(C.size_t(len(args)) * C.size_t(unsafe.Sizeof((*C.char)(nil))))
	defer C.free(argv)
	ptrs := unsafe.Slice((**C.char)(argv), len(args))
	for i, a := range args {
		ptrs[i] = C.CString(a)
	}
	defer func() {
		for _, p := range ptrs {
			C.free(unsafe.Pointer(p))
		}
	}()
	ps := C.sp_init(C.int(len(args)), (**C.char)(argv))
	if ps == nil {
		return nil, errors.New("pocketsphinx: decoder initialisation failed")
	}
	return &decoder{ps: ps}, nil
}

func (d *decoder) close() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

func (d *decoder) hasWord(w string) bool {
	cw := C.CString(w)
	defer C.free(unsafe.Pointer(cw))
	return C.sp_has_word(d.ps, cw) != 0
}

// addWord adds a word with the given pronunciation (space-separated phones)
// to the decoder's dictionary.
func (d *decoder) addWord(w, phones string) error {
	cw, cp := C.CString(w), C.CString(phones)
	defer C.free(unsafe.Pointer(cw))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_add_word(d.ps, cw, cp, 1) < 0 {
		return fmt.Errorf("pocketsphinx: cannot add word %q /%s/", w, phones)
	}
	return nil
}

func (d *decoder) setJSGF(name, jsgf string) error {
	cn, cj := C.CString(name), C.CString(jsgf)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cj))
	if C.ps_set_jsgf_string(d.ps, cn, cj) < 0 {
		return errors.New("pocketsphinx: grammar does not compile")
	}
	return nil
}

func (d *decoder) setAllphone(name string) error {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_allphone(d.ps, cn, nil) < 0 {
		return errors.New("pocketsphinx: cannot set phone loop")
	}
	return nil
}

func (d *decoder) unset(name string) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	C.ps_unset_search(d.ps, cn)
}

func (d *decoder) use(name string) error {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_search(d.ps, cn) < 0 {
		return fmt.Errorf("pocketsphinx: no search %q", name)
	}
	return nil
}

// decode runs pcm (16 kHz mono) through the active search as one utterance.
func (d *decoder) decode(pcm []int16) (stats, error) {
	var st C.sp_stats
	var p *C.int16
	if len(pcm) > 0 {
		p = (*C.int16)(unsafe.Pointer(&pcm[0]))
	}
	hyp := C.sp_decode(d.ps, p, C.size_t(len(pcm)), &st)
	s := stats{
		frames:       int(st.frames),
		words:        int(st.nwords),
		fillerFrames: int(st.fillerframes),
		score:        float64(st.score),
		ascr:         float64(st.ascr),
		prob:         float64(st.prob),
	}
	if hyp != nil {
		s.hyp = C.GoString(hyp)
	}
	return s, nil
}

func (d *decoder) segs() string {
	buf := make([]byte, 4096)
	n := C.sp_segs(d.ps, (*C.char)(unsafe.Pointer(&buf[0])), 4096)
	return string(buf[:min(int(n), 4095)])
}
