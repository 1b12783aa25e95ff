/* What both DSP kernels (dtmf_kernel.c, mfr2_kernel.c) need of Python: arrays through the buffer
   protocol, checked, and their events made without the frozen dataclasses' own __init__. Static
   functions, for inclusion in each. */
#ifndef BRANCHLINE_KERNEL_SUPPORT_H
#define BRANCHLINE_KERNEL_SUPPORT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* Takes `obj`'s buffer into `view`: C-contiguous, writable if `writable`, of `itemsize`-byte items of
   struct format `format` (not asked for if NULL: the per-tick arrays, where numpy would build the
   format string on every call), `count` of them (any number if negative). Its item count, or -1 with a
   ValueError naming `kernel` and `name`, the view released. */
static Py_ssize_t take_array(PyObject *obj, const char *kernel, const char *name, const char *format,
                             Py_ssize_t itemsize, Py_ssize_t count, int writable, Py_buffer *view)
{
    int flags = PyBUF_C_CONTIGUOUS | (format ? PyBUF_FORMAT : 0) | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Format(PyExc_ValueError, "%s: %s: expected a C-contiguous%s array, got %s", kernel, name,
                     writable ? ", writable" : "", Py_TYPE(obj)->tp_name);
        return -1;
    }
    const char *got = view->format ? view->format : "B";
    if (*got == '@' || *got == '=')
        got++;
    if (view->itemsize != itemsize)
        PyErr_Format(PyExc_ValueError, "%s: %s: expected items of %zd bytes, got %zd", kernel, name, itemsize,
                     view->itemsize);
    else if (format && strcmp(got, format) != 0)
        PyErr_Format(PyExc_ValueError, "%s: %s: expected items of format %s, got %s", kernel, name, format, got);
    else if (count >= 0 && view->len != count * itemsize)
        PyErr_Format(PyExc_ValueError, "%s: %s: expected %zd items, got %zd", kernel, name, count,
                     view->len / itemsize);
    else
        return view->len / itemsize;
    PyBuffer_Release(view);
    return -1;
}

/* An instance of `type`, a frozen dataclass, with its `n` fields `names` set to `values` (NULL if one
   could not be made, its error set), as object.__new__ and object.__setattr__ set them: the dataclass's
   checked __init__, run from Python, took a quarter of a 30-channel R2 tick. NULL on an error; takes no
   reference. */
static PyObject *frozen_event(PyTypeObject *type, PyObject *const names[], PyObject *const values[], int n)
{
    for (int i = 0; i < n; i++)
        if (values[i] == NULL)
            return NULL;
    PyObject *event = type->tp_alloc(type, 0);
    for (int i = 0; event != NULL && i < n; i++)
        if (PyObject_GenericSetAttr(event, names[i], values[i]) < 0)
            Py_CLEAR(event);
    return event;
}

#endif
