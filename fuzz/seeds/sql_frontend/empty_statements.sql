/* comment ; */ ;; -- only comments
;