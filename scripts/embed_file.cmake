# Writes a C file holding one file's bytes as `const char NAME[]` (NUL-terminated) and
# `const size_t NAME_len`. -DIN=file -DOUT=c-file -DNAME=symbol -DHEADER=include-path
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
set(body "/* Generated from ${IN} by scripts/embed_file.cmake; do not edit. */\n")
string(APPEND body "#include \"${HEADER}\"\n\n")
string(APPEND body "const char ${NAME}[] = {${hex} 0x00};\n")
string(APPEND body "const size_t ${NAME}_len = ${len};\n")
file(WRITE ${OUT}.tmp "${body}")
file(RENAME ${OUT}.tmp ${OUT})
