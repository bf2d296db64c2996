# cmake -DSRC=dir -DDST=dir -P copy-if-exists.cmake: copies SRC's Python
# files to DST when SRC exists (scenarios/ may not, in a partial checkout).
if(EXISTS ${SRC})
  file(GLOB _files ${SRC}/*.py)
  file(MAKE_DIRECTORY ${DST})
  file(COPY ${_files} DESTINATION ${DST})
endif()
