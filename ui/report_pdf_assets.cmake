# report_pdf_assets.cmake (included from ui/CMakeLists.txt): the TrueType fonts
# the report PDF embeds (src/report/report_pdf.h), copied from Debian's
# fonts-dejavu-core into app/fonts/. The page fetches them when it makes a PDF
# and hands the bytes to the core (es_report_set_pdf_font): the core reads no
# files. The service worker precaches them, so PDF export works offline.
set(ES_DEJAVU_DIR "/usr/share/fonts/truetype/dejavu")
foreach(f DejaVuSans.ttf DejaVuSans-Bold.ttf)
  if(EXISTS "${ES_DEJAVU_DIR}/${f}")
    es_copy_to_app("${ES_DEJAVU_DIR}/${f}" "fonts/${f}")
  else()
    message(WARNING "${ES_DEJAVU_DIR}/${f} missing (Debian package fonts-dejavu-core): "
                    "report PDFs fall back to Helvetica (Western European characters only)")
  endif()
endforeach()
