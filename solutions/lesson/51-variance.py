for n, measured, predicted in st.variance_check():
    print(f"n = {n:3d}: std of z measured {measured:.4f}, predicted sqrt(n) * {st.SMALL} = {predicted:.4f}")
