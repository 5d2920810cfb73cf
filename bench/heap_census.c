    // ---- pysmartnode heap census (bench/heap_census.py; a bench build only, never shipped) ----
    // One line per live object: "CEN <bytes> <what>", then "<-[w<i>/<bytes>] <holder>" up the
    // chain of objects holding it (i: the word of the holder that points here), until a module,
    // a class, an instance of a class, or a root of the VM's state.
    {
        extern char __executable_start, _end;
        extern const mp_obj_type_t mp_type_closure;
        mp_state_mem_area_t *ca = &MP_STATE_MEM(area);
        size_t nbl = ca->gc_alloc_table_byte_len * BLOCKS_PER_ATB;
        #define CEN_PTR(b) ((void **)(ca->gc_pool_start + (b) * BYTES_PER_BLOCK))
        #define CEN_LEN(b, out) do { \
        size_t e_ = (b) + 1; \
        while (e_ < nbl && ATB_GET_KIND(ca, e_) == AT_TAIL) { e_++; } \
        out = e_ - (b); \
} while (0)
        for (size_t bl = 0; bl < nbl; bl++) {
            if (ATB_GET_KIND(ca, bl) != AT_HEAD) {
                continue;
            }
            size_t n;
            CEN_LEN(bl, n);
            mp_printf(print, "CEN %u", (uint)(n * BYTES_PER_BLOCK));
            size_t cur = bl;
            for (int depth = 0; depth < 7; depth++) {
                void *w = *CEN_PTR(cur);
                const char *nm = NULL;
                const char *pre = "";
                // the first word of an object is its type: one in the binary, or a class on the heap
                if ((char *)w >= &__executable_start && (char *)w < &_end && ((uintptr_t)w & 7) == 0
                    && ((mp_obj_base_t *)w)->type == &mp_type_type
                    && ((mp_obj_type_t *)w)->name < QSTR_TOTAL()) {
                    nm = qstr_str(((mp_obj_type_t *)w)->name);
                } else if ((byte *)w >= ca->gc_pool_start && (byte *)w < ca->gc_pool_end
                           && (((byte *)w - ca->gc_pool_start) % BYTES_PER_BLOCK) == 0
                           && ATB_GET_KIND(ca, BLOCK_FROM_PTR(ca, w)) == AT_HEAD
                           && ((mp_obj_base_t *)w)->type == &mp_type_type
                           && ((mp_obj_type_t *)w)->name < QSTR_TOTAL()) {
                    nm = qstr_str(((mp_obj_type_t *)w)->name);
                    pre = "inst:";
                }
                if (w == &mp_type_gen_wrap) {
                    nm = "async_def";  // the function object of an `async def` (or generator)
                } else if (w == &mp_type_gen_instance) {
                    nm = "coroutine";  // a running coroutine or generator, its frame inline
                }
                if (nm == NULL) {
                    for (const qstr_pool_t *pool = MP_STATE_VM(last_pool); pool != NULL; pool = pool->prev) {
                        if ((const void *)pool == (const void *)CEN_PTR(cur)) {
                            nm = "qstr_pool";
                            break;
                        }
                    }
                }
                if (nm != NULL) {
                    if (w == &mp_type_module) {
                        mp_map_elem_t *e = mp_map_lookup(&((mp_obj_module_t *)CEN_PTR(cur))->globals->map,
                            MP_OBJ_NEW_QSTR(MP_QSTR___name__), MP_MAP_LOOKUP);
                        mp_printf(print, " module:%s", (e != NULL && mp_obj_is_str(e->value)) ? mp_obj_str_get_str(e->value) : "?");
                        break;
                    }
                    if (w == &mp_type_type) {
                        mp_printf(print, " class:%s", qstr_str(((mp_obj_type_t *)CEN_PTR(cur))->name));
                        break;
                    }
                    mp_printf(print, " %s%s", pre, nm);
                    if (w == &mp_type_gen_instance) {
                        // which async def (or generator): its function object, a few words in
                        void **cw = CEN_PTR(cur);
                        for (int k = 1; k < 4; k++) {
                            void *f = cw[k];
                            if ((byte *)f >= ca->gc_pool_start && (byte *)f < ca->gc_pool_end
                                && (((byte *)f - ca->gc_pool_start) % BYTES_PER_BLOCK) == 0
                                && ATB_GET_KIND(ca, BLOCK_FROM_PTR(ca, f)) == AT_HEAD
                                && ((mp_obj_base_t *)f)->type == &mp_type_gen_wrap) {
                                mp_printf(print, ":%s", qstr_str(mp_obj_fun_bc_get_name((const mp_obj_fun_bc_t *)f)));
                                break;
                            }
                        }
                    }
                    if (depth == 0 && (w == &mp_type_str || w == &mp_type_bytes)) {
                        // a string's first characters (printable ones; others as ?), then stop
                        mp_obj_str_t *so = (mp_obj_str_t *)CEN_PTR(cur);
                        mp_print_str(print, "'");
                        for (size_t i = 0; i < so->len && i < 24; i++) {
                            char c = (char)so->data[i];
                            mp_printf(print, "%c", (c > 32 && c < 127 && c != '\'') ? c : '?');
                        }
                        mp_printf(print, "'#%u", (uint)so->len);
                    }
                    if (pre[0] || depth >= 5) {
                        break;
                    }
                    // containers and functions say little alone: go on to what holds them
                    if (w != &mp_type_dict && w != &mp_type_fun_bc && w != &mp_type_closure
                        && w != &mp_type_bound_meth && w != &mp_type_gen_wrap && w != &mp_type_tuple
                        && w != &mp_type_list && w != &mp_type_staticmethod && w != &mp_type_classmethod
                        && w != &mp_type_str && w != &mp_type_bytes) {
                        break;
                    }
                } else {
                    // untyped: a table, a buffer ..., or the frame of a running call (its first word
                    // the function: py/objfun.c puts a frame of over 11 words on the heap)
                    void *f = *CEN_PTR(cur);
                    if ((byte *)f >= ca->gc_pool_start && (byte *)f < ca->gc_pool_end
                        && (((byte *)f - ca->gc_pool_start) % BYTES_PER_BLOCK) == 0
                        && ATB_GET_KIND(ca, BLOCK_FROM_PTR(ca, f)) == AT_HEAD
                        && ((mp_obj_base_t *)f)->type == &mp_type_fun_bc) {
                        mp_printf(print, " frame:%s", qstr_str(mp_obj_fun_bc_get_name((const mp_obj_fun_bc_t *)f)));
                    } else {
                        mp_printf(print, " raw");
                    }
                }
                byte *lo = (byte *)CEN_PTR(cur);
                size_t cn;
                CEN_LEN(cur, cn);
                byte *hi = lo + cn * BYTES_PER_BLOCK;
                size_t holder = (size_t)-1, off = 0;
                for (size_t b2 = 0; b2 < nbl && holder == (size_t)-1; b2++) {
                    if (ATB_GET_KIND(ca, b2) != AT_HEAD || b2 == cur) {
                        continue;
                    }
                    size_t n2;
                    CEN_LEN(b2, n2);
                    void **p = CEN_PTR(b2);
                    for (size_t i = 0; i < n2 * BYTES_PER_BLOCK / sizeof(void *); i++) {
                        if ((byte *)p[i] >= lo && (byte *)p[i] < hi) {
                            holder = b2;
                            off = i;
                            break;
                        }
                    }
                }
                if (holder == (size_t)-1) {
                    void **r = (void **)(void *)&mp_state_ctx;
                    size_t rl = sizeof(mp_state_ctx) / sizeof(void *), ri;
                    for (ri = 0; ri < rl; ri++) {
                        if ((byte *)r[ri] >= lo && (byte *)r[ri] < hi) {
                            break;
                        }
                    }
                    if (ri < rl) {
                        mp_printf(print, "<-root@%u", (uint)ri);
                    } else {
                        mp_printf(print, "<-stack");
                    }
                    break;
                }
                size_t hn;
                CEN_LEN(holder, hn);
                mp_printf(print, "<-[w%u/%u]", (uint)off, (uint)(hn * BYTES_PER_BLOCK));
                cur = holder;
            }
            mp_printf(print, "\n");
        }
        mp_printf(print, "CEN end\n");
    }
