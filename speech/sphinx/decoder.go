package sphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <stdlib.h>
#include <string.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/ckd_alloc.h>

// sp_quiet turns off the libraries' logging (global state, stderr by default).
static void sp_quiet(void) { err_set_logfp(NULL); }

static ps_decoder_t *sp_init(int argc, char **argv) {
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc, argv, 1);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	return ps;
}

// sp_pron copies the pronunciation of word (phones separated by spaces) into
// buf and returns its length, or -1 when the word is not in the dictionary.
static int sp_pron(ps_decoder_t *ps, const char *word, char *buf, int n) {
	char *pron = ps_lookup_word(ps, word);
	if (pron == NULL) return -1;
	int len = strlen(pron);
	if (len >= n) len = n - 1;
	memcpy(buf, pron, len);
	buf[len] = 0;
	ckd_free(pron);
	return len;
}

typedef struct {
	int32 score;        // path score of the best hypothesis
	int   frames;       // frames decoded
	int   fillerframes; // frames the best path spends in silence and noise (fillers, and _pseudo_ words)
} sp_stats;

// sp_decode runs one whole utterance through the active search and returns
// its hypothesis (owned by the decoder, valid until its next call), or NULL
// when there is none. ps_start_stream first, so that nothing (the noise
// estimate of the front end above all) carries over from the last caller.
static const char *sp_decode(ps_decoder_t *ps, const int16 *pcm, size_t n, sp_stats *st) {
	st->score = 0; st->frames = 0; st->fillerframes = 0;
	ps_start_stream(ps);
	if (ps_start_utt(ps) < 0) return NULL;
	if (ps_process_raw(ps, pcm, n, FALSE, TRUE) < 0) { ps_end_utt(ps); return NULL; }
	if (ps_end_utt(ps) < 0) return NULL;
	st->frames = ps_get_n_frames(ps);
	const char *hyp = ps_get_hyp(ps, &st->score);
	if (hyp == NULL) return NULL;
	ps_seg_t *seg;
	for (seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
		int sf, ef;
		const char *w = ps_seg_word(seg);
		ps_seg_frames(seg, &sf, &ef);
		if (w[0] == '<' || w[0] == '[' || w[0] == '+' || w[0] == '_') st->fillerframes += ef - sf + 1;
	}
	return hyp;
}

*/
import "C"

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"unsafe"
)

var quietOnce sync.Once

// decoder is one PocketSphinx decoder with its acoustic model and dictionary.
// It is not safe for concurrent use: the Recognizer's pool lends it to one
// utterance at a time.
type decoder struct {
	ps       *C.ps_decoder_t
	searches *searchCache
}

// decoded is one utterance through one search.
type decoded struct {
	hyp          string  // words of the best path, fillers left out
	score        float64 // path score, in the decoder's log units (comparable across searches: -compallsen)
	frames       int     // 10 ms frames decoded
	fillerFrames int     // frames of the best path in silence or noise
}

// speechFrames is the number of frames the best path spends in words.
func (d decoded) speechFrames() int { return d.frames - d.fillerFrames }

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
		return nil, errors.New("pocketsphinx: the decoder did not initialise (model or dictionary unreadable?)")
	}
	return &decoder{ps: ps}, nil
}

func (d *decoder) close() {
	if d.ps != nil {
		C.ps_free(d.ps)
		d.ps = nil
	}
}

// prons returns every pronunciation of w in the dictionary ("T UW"), none
// when w is not in it.
func (d *decoder) prons(w string) []string {
	var out []string
	buf := make([]byte, 512)
	for i := 1; ; i++ {
		name := w
		if i > 1 {
			name += "(" + strconv.Itoa(i) + ")"
		}
		cw := C.CString(name)
		n := C.sp_pron(d.ps, cw, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf)))
		C.free(unsafe.Pointer(cw))
		if n < 0 {
			return out
		}
		out = append(out, string(buf[:n]))
	}
}

// addWord adds w, pronounced phones, to the decoder's dictionary.
func (d *decoder) addWord(w, phones string) error {
	cw, cp := C.CString(w), C.CString(phones)
	defer C.free(unsafe.Pointer(cw))
	defer C.free(unsafe.Pointer(cp))
	if C.ps_add_word(d.ps, cw, cp, 0) < 0 {
		return fmt.Errorf("pocketsphinx: cannot add %q /%s/", w, phones)
	}
	return nil
}

func (d *decoder) setJSGF(name, jsgf string) error {
	cn, cj := C.CString(name), C.CString(jsgf)
	defer C.free(unsafe.Pointer(cn))
	defer C.free(unsafe.Pointer(cj))
	if C.ps_set_jsgf_string(d.ps, cn, cj) < 0 {
		return errors.New("pocketsphinx: the grammar does not compile")
	}
	return nil
}

func (d *decoder) unset(name string) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	C.ps_unset_search(d.ps, cn)
}

// decode runs pcm (16 kHz mono) through the named search as one utterance.
func (d *decoder) decode(search string, pcm []int16) (decoded, error) {
	cn := C.CString(search)
	defer C.free(unsafe.Pointer(cn))
	if C.ps_set_search(d.ps, cn) < 0 {
		return decoded{}, fmt.Errorf("pocketsphinx: no search %q", search)
	}
	var st C.sp_stats
	var p *C.int16
	if len(pcm) > 0 {
		p = (*C.int16)(unsafe.Pointer(&pcm[0]))
	}
	hyp := C.sp_decode(d.ps, p, C.size_t(len(pcm)), &st)
	r := decoded{
		score:        float64(st.score),
		frames:       int(st.frames),
		fillerFrames: int(st.fillerframes),
	}
	if hyp != nil {
		r.hyp = C.GoString(hyp)
	}
	return r, nil
}
