// Made by webui/locale_build.py from the catalogue (`make messages`); do not edit.
window.BranchlineCatalogue = {
 "lang": "en",
 "messages": {},
 "plurals": 2
};
