for n, measured, predicted in st.variance_check():
    print(f"n = {n:3d}: std of z measured {measured:.4f}, predicted sqrt(n) * 0.01 = {predicted:.4f}")
