SELECT ${undefined_var};
SELECT "${warehouse:-x}" -- ${in_comment}
